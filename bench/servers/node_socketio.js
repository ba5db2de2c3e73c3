// npm socket.io (the reference, from tests/node/node_modules) with the app of bench/run.py.
//
//   node bench/servers/node_socketio.js --port PORT
//
// Engine.IO v4 at /socket.io/, polling + websocket, CORS open, ping 25 s / 20 s, 100 MB
// buffer, no per-message compression. Every socket joins room "all" on connect; "echo" acks
// its arguments, "join" (room) joins it and acks true, "bcast" (room, count, payload) emits
// "m" to the room count times and acks count. Prints nothing per message.
"use strict";

const http = require("node:http");
const path = require("node:path");

const NODE_DIR = path.join(__dirname, "..", "..", "tests", "node", "node_modules");
const { Server } = require(path.join(NODE_DIR, "socket.io"));

const portAt = process.argv.indexOf("--port");
const port = Number(process.argv[portAt + 1]);
const httpServer = http.createServer();
const io = new Server(httpServer, {
  cors: { origin: "*" },
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e8,
  perMessageDeflate: false,
  httpCompression: false,
});

io.on("connection", (socket) => {
  socket.join("all");
  socket.on("echo", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(true);
  });
  socket.on("bcast", (room, count, payload, ack) => {
    const target = io.to(room);
    for (let i = 0; i < count; i++) target.emit("m", payload);
    if (typeof ack === "function") ack(count);
  });
});

httpServer.listen(port, "127.0.0.1");
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
