// Node `ws` + one ioredis subscriber, Mastodon streaming's design without its filters:
// POST /publish -> PUBLISH on Redis -> the one subscriber connection -> ws.send to every socket.
"use strict";
const http = require("http");
const { WebSocketServer } = require("ws");
const Redis = require("ioredis");

const url = process.env.REDIS_URL;
const publisher = new Redis(url);
const subscriber = new Redis(url);
const sockets = new Set();

subscriber.subscribe("bench");
subscriber.on("message", (_channel, message) => {
  for (const ws of sockets) ws.send(message);
});

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/publish") {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    publisher.publish("bench", Buffer.concat(chunks).toString()).then(
      () => res.writeHead(200, { "content-length": "2" }).end("ok"),
      () => res.writeHead(503).end(),
    );
  });
});
server.keepAliveTimeout = 75000;

const wss = new WebSocketServer({ server, path: "/ws", perMessageDeflate: false });
wss.on("connection", (ws) => {
  sockets.add(ws);
  ws.on("close", () => sockets.delete(ws));
  ws.on("error", () => sockets.delete(ws));
});

server.listen(Number(process.env.PORT), "127.0.0.1");
