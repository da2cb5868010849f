// The reconnect and retry policy, driven by a scripted socket (no server): full-jitter backoff, a reset
// after `ready`, and a subscribe answered `unavailable` retried until it succeeds.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Realtime, SocialFlowClient } from "../dist/index.js";

class ScriptedSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    ScriptedSocket.all.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.({});
    }, 0);
  }
  send(text) {
    const frame = JSON.parse(text);
    this.sent.push(frame);
    this.script?.(frame, this);
  }
  reply(frame) {
    setTimeout(() => this.onmessage?.({ data: JSON.stringify(frame) }), 0);
  }
  close(code = 1000) {
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code, reason: "" }), 0);
  }
}

function client() {
  const c = new SocialFlowClient({ baseUrl: "http://example.invalid" });
  c.store.set({ access_token: "a", refresh_token: "r", expires_in: 900, token_type: "bearer", expires_at: Date.now() + 9e5 });
  return c;
}

const settle = (ms = 30) => new Promise((r) => setTimeout(r, ms));

test("reconnect delays are full-jitter exponential and reset once ready", async () => {
  ScriptedSocket.all = [];
  const delays = [];
  const rt = new Realtime(client(), {
    WebSocket: ScriptedSocket,
    baseDelayMs: 1,
    maxDelayMs: 8,
    random: () => 0.999,
    onState: (s, d) => s === "waiting" && delays.push(d.delayMs),
  });
  rt.connect();
  for (let i = 0; i < 5; i += 1) {
    await settle();
    ScriptedSocket.all.at(-1).close(1006);
  }
  await settle();
  assert.deepEqual(delays, [0, 1, 3, 7, 7]); // floor(0.999 * min(8, 2^n))
  const sock = ScriptedSocket.all.at(-1);
  sock.reply({ type: "ready", id: 1, user_id: "7" });
  await settle();
  sock.close(1006);
  await settle();
  assert.equal(delays.at(-1), 0); // back to the first step after a successful connection
  rt.close();
});

test("a subscribe answered `unavailable` is retried until the store answers", async () => {
  ScriptedSocket.all = [];
  let refusals = 2;
  const rt = new Realtime(client(), { WebSocket: ScriptedSocket, baseDelayMs: 1 });
  const events = [];
  rt.subscribe("timeline:public", { onEvent: (e) => events.push(e.offset) });
  await settle();
  const sock = ScriptedSocket.all[0];
  sock.script = (frame, s) => {
    if (frame.type === "auth") s.reply({ type: "ready", id: frame.id, user_id: "7" });
    if (frame.type === "subscribe") {
      if (refusals-- > 0) s.reply({ type: "error", id: frame.id, code: "unavailable", message: "retry" });
      else s.reply({ type: "subscribed", id: frame.id, channel: frame.channel, offset: 5, epoch: "e", recovered: false, publications: [] });
    }
  };
  sock.onopen({});
  await settle(100);
  assert.equal(sock.sent.filter((f) => f.type === "subscribe").length, 3);
  assert.deepEqual(rt.positions.get("timeline:public"), { offset: 5, epoch: "e" });
  // A gap (offset 7 after 5) resubscribes from 5 instead of delivering out of order.
  sock.reply({ type: "event", channel: "timeline:public", offset: 7, epoch: "e", event: "post.created", data: {} });
  await settle();
  const last = sock.sent.at(-1);
  assert.equal(last.type, "subscribe");
  assert.deepEqual(last.since, { offset: 5, epoch: "e" });
  assert.deepEqual(events, []);
  rt.close();
});
