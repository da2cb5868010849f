// socket.io 4 + @socket.io/redis-adapter. POST /publish emits through Redis with @socket.io/redis-emitter
// (how a backend publishes to a socket.io cluster), so every frame goes Redis -> adapter -> sockets, like
// the other Redis stacks (a local io.emit would deliver to this node's sockets without Redis).
"use strict";
const http = require("http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { Emitter } = require("@socket.io/redis-emitter");
const Redis = require("ioredis");

const url = process.env.REDIS_URL;
const pub = new Redis(url);
const sub = pub.duplicate();
const emitter = new Emitter(new Redis(url));

const server = http.createServer((req, res) => {
  // socket.io answers its own /socket.io/ requests before this listener sees them.
  if (req.method !== "POST" || req.url !== "/publish") {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    emitter.emit("m", JSON.parse(Buffer.concat(chunks).toString()));
    res.writeHead(200, { "content-length": "2" }).end("ok");
  });
});
server.keepAliveTimeout = 75000;

// Pings as good as off and websocket transport only, like the python-socketio peer.
const io = new Server(server, {
  adapter: createAdapter(pub, sub),
  transports: ["websocket"],
  pingInterval: 3600000,
  pingTimeout: 3600000,
  perMessageDeflate: false,
  cors: { origin: "*" },
});
io.on("connection", () => {});

server.listen(Number(process.env.PORT), "127.0.0.1");
