// The live-room peer: Node `ws` + Redis (ioredis), doing what Social Flow's room does without storage.
// Frames are protocol v1's (auth, subscribe, publish); chat.message is checked (1..500 characters),
// published on Redis and sent by the one subscriber to every socket in the room; reactions are summed
// per kind and flushed through Redis at most every 250 ms, under a Redis lock so that several nodes
// send one `reactions` event per interval between them (as Social Flow does).
"use strict";
const http = require("http");
const { WebSocketServer } = require("ws");
const Redis = require("ioredis");

const url = process.env.REDIS_URL;
const redis = new Redis(url);
const subscriber = new Redis(url);
const rooms = new Map(); // channel -> Set of sockets
const pending = new Map(); // channel -> {kind: n}
const KINDS = new Set(["like", "love", "laugh", "wow", "clap", "fire"]);
const offsets = new Map();

subscriber.psubscribe("live:*");
subscriber.on("pmessage", (_pattern, channel, message) => {
  const room = rooms.get(channel);
  if (!room) return;
  for (const ws of room) ws.send(message);
});

function publish(channel, event, data) {
  const offset = (offsets.get(channel) || 0) + 1;
  offsets.set(channel, offset);
  const frame = JSON.stringify({ type: "event", channel, offset, epoch: "node", event, data });
  return redis.publish(channel, frame);
}

const TAKE = `
for i = 1, #ARGV - 1, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[#ARGV]) then
  local all = redis.call('HGETALL', KEYS[1]); redis.call('DEL', KEYS[1]); return all
end
return false`;

setInterval(async () => {
  for (const [channel, counts] of pending) {
    pending.delete(channel);
    const args = [];
    for (const [k, n] of Object.entries(counts)) args.push(k, n);
    args.push(250);
    const flat = await redis.eval(TAKE, 2, `rx:${channel}`, `rx:${channel}:lock`, ...args);
    if (!flat || !flat.length) continue;
    const out = {};
    for (let i = 0; i < flat.length; i += 2) out[flat[i]] = Number(flat[i + 1]);
    publish(channel, "reactions", { counts: out });
  }
}, 250);

const server = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, path: "/ws", perMessageDeflate: false });
wss.on("connection", (ws) => {
  let user = null;
  const joined = new Set();
  const reply = (frame) => ws.send(JSON.stringify(frame));
  ws.on("message", (raw) => {
    let f;
    try {
      f = JSON.parse(raw);
    } catch {
      return reply({ type: "error", code: "bad_request", message: "not JSON" });
    }
    if (f.type === "auth") {
      user = String(f.token).slice(-8);
      return reply({ type: "ready", id: f.id, user_id: user });
    }
    if (!user) return reply({ type: "error", id: f.id, code: "unauthorized", message: "send auth first" });
    if (f.type === "subscribe") {
      if (!rooms.has(f.channel)) rooms.set(f.channel, new Set());
      rooms.get(f.channel).add(ws);
      joined.add(f.channel);
      return reply({ type: "subscribed", id: f.id, channel: f.channel, offset: 0, epoch: "node", recovered: false, publications: [] });
    }
    if (f.type === "publish" && f.event === "chat.message") {
      const text = f.data && f.data.text;
      if (typeof text !== "string" || !text.trim() || text.length > 500) {
        return reply({ type: "error", id: f.id, code: "bad_request", message: "chat text is 1..500 characters" });
      }
      const data = { id: String(Date.now()), kind: "chat", user: { id: user, username: user }, text, created_at: new Date().toISOString() };
      publish(f.channel, "chat.message", data);
      return reply({ type: "published", id: f.id, channel: f.channel });
    }
    if (f.type === "publish" && f.event === "reaction") {
      const kind = f.data && f.data.kind;
      if (!KINDS.has(kind)) return reply({ type: "error", id: f.id, code: "bad_request", message: "unknown kind" });
      const counts = pending.get(f.channel) || {};
      counts[kind] = (counts[kind] || 0) + 1;
      pending.set(f.channel, counts);
      return reply({ type: "published", id: f.id, channel: f.channel });
    }
    reply({ type: "error", id: f.id, code: "bad_request", message: "unknown frame" });
  });
  ws.on("close", () => {
    for (const channel of joined) rooms.get(channel).delete(ws);
  });
});

server.listen(Number(process.env.PORT), "127.0.0.1");
