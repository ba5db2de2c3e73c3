// A socket.io 2.5.1 server (npm, installed as socket.io-v2: Engine.IO v3, Socket.IO protocol 4)
// for the tests of siox's client with protocol=4 (tests/legacy/test_client_v2_server.py).
//
// Usage: node v2_server.js [port]   (0 or none: a free port)
// Prints one line {"listening": {"port": N}} once it accepts connections; SIGTERM closes it.
//
// Namespaces "/" and "/chat", and "/private" behind a middleware that refuses unless the
// handshake query has token=secret (error message "not authorized", data {reason: "bad token"}).
// Events, in every namespace:
//   "echo" (...args)            -> ack with the same args
//   "whoami" ()                 -> ack {id, nsp, token} (token: the handshake query's)
//   "ask" (event, ...args)      -> emit event with args and an ack to this socket, then ack
//                                  with the client's reply
//   "send-binary" ()            -> emit "bin" (Buffer 00 01 ff, {nested: Buffer "xyz"})
//   "join" (room)               -> join, then ack with the socket's rooms (own id left out)
//   "shout" (room, ...args)     -> emit "news" with args to the room, then ack true
//   "kick" ()                   -> disconnect this socket (client: "io server disconnect")
"use strict";

const http = require("http");
const socketio = require("socket.io-v2");

const port = Number(process.argv[2] || 0);
const server = http.createServer();
const io = socketio(server, { pingInterval: 5000, pingTimeout: 5000 });

function handlers(socket) {
  socket.on("echo", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
  socket.on("whoami", (ack) =>
    ack({ id: socket.id, nsp: socket.nsp.name, token: socket.handshake.query.token || null }),
  );
  socket.on("ask", (event, ...rest) => {
    const ack = rest.pop();
    socket.emit(event, ...rest, (...reply) => ack(...reply));
  });
  socket.on("send-binary", () =>
    socket.emit("bin", Buffer.from([0, 1, 255]), { nested: Buffer.from("xyz") }),
  );
  socket.on("join", (room, ack) =>
    socket.join(room, () => ack(Object.keys(socket.rooms).filter((r) => r !== socket.id).sort())),
  );
  socket.on("shout", (room, ...rest) => {
    const ack = rest.pop();
    socket.nsp.to(room).emit("news", ...rest);
    ack(true);
  });
  socket.on("kick", () => socket.disconnect());
}

io.on("connection", handlers);
io.of("/chat").on("connection", handlers);
io.of("/private")
  .use((socket, next) => {
    if (socket.handshake.query.token === "secret") {
      next();
      return;
    }
    const error = new Error("not authorized");
    error.data = { reason: "bad token" };
    next(error);
  })
  .on("connection", handlers);

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ listening: { port: server.address().port } }) + "\n");
});

function stop() {
  io.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
