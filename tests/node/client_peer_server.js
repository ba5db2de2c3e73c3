// The Node Socket.IO server (npm socket.io 4.8.x, or socket.io 2.5 with --v2) that the siox
// client's tests (tests/client) talk to. tests/client/siox_peer.py is the same app written with
// siox; keep the two in step.
//
// Usage:
//   node client_peer_server.js --port 0 [--host 127.0.0.1] [--path /socket.io/] [--v2]
//        [--recovery] [--parser default|msgpack] [--cookie] [--ping-interval ms]
//        [--ping-timeout ms]
// Prints one line {"listening": {"host": ..., "port": ...}} on stdout once it accepts
// connections. SIGTERM closes the server the way socket.io does on shutdown, then exits.
//
// Namespaces: "/", "/chat", and "/private" (a middleware refuses unless auth.token === "secret",
// with message "not authorized" and data {reason: "bad token"}).
// On connect every socket gets "welcome" with {nsp, auth}.
// Events (every namespace):
//   "echo" (...args, ack)     -> ack(...args)
//   "echo-back" (...args)     -> emit "echo-back" with the same args
//   "info" (ack)              -> ack {id, nsp, auth, query, headers, transport, recovered}
//   "requests" (ack)          -> ack the log of HTTP requests [{method, url, cookie, token}]
//   "record" (value, ack?)    -> append value to the server-wide list; ack() if asked
//   "received" (ack)          -> ack the server-wide list
//   "flaky" (value, ack)      -> the first try of each value is ignored; later ones are
//                                recorded and acknowledged with the value
//   "ask" (spec, ack)         -> emit spec.event (spec.args) to this socket with an ack and a
//                                timeout of 2 s; ack {reply: [args]} or {error: "timeout"}
//   "kick" ()                 -> disconnect this socket from the namespace
//   "drop" (n)                -> close the connection (the transport), then at once emit
//                                "missed" i for i < n to the socket's own room (lost on the
//                                closing connection, replayed by recovery)
//   "broadcast" (event, ...a) -> emit event to the whole namespace
"use strict";

const http = require("http");

function parseArgs(argv) {
  const opts = {
    host: "127.0.0.1",
    port: 0,
    path: "/socket.io/",
    v2: false,
    recovery: false,
    parser: "default",
    cookie: false,
    "ping-interval": 25000,
    "ping-timeout": 20000,
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in opts)) {
      throw new Error(`unknown option ${argv[i]}`);
    }
    if (typeof opts[key] === "boolean") {
      opts[key] = true;
    } else {
      const value = argv[++i];
      opts[key] = typeof opts[key] === "number" ? Number(value) : value;
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const httpServer = http.createServer();
const requestLog = [];
const received = [];
const flakyTries = new Map();

function logRequest(req) {
  if (requestLog.length >= 500) {
    requestLog.shift();
  }
  requestLog.push({
    method: req.method,
    url: req.url,
    cookie: req.headers.cookie || null,
    token: req.headers["x-token"] || null,
  });
}

let io;
if (opts.v2) {
  io = require("socket.io-v2")(httpServer, {
    path: opts.path.replace(/\/$/, ""),
    pingInterval: opts["ping-interval"],
    pingTimeout: opts["ping-timeout"],
  });
} else {
  const { Server } = require("socket.io");
  const options = {
    path: opts.path,
    pingInterval: opts["ping-interval"],
    pingTimeout: opts["ping-timeout"],
    maxHttpBufferSize: 1e7,
  };
  if (opts.recovery) {
    options.connectionStateRecovery = { maxDisconnectionDuration: 60000, skipMiddlewares: true };
  }
  if (opts.parser === "msgpack") {
    options.parser = require("socket.io-msgpack-parser");
  }
  io = new Server(httpServer, options);
  if (opts.cookie) {
    io.engine.on("initial_headers", (headers) => {
      headers["set-cookie"] = "lb=node1; Path=/";
    });
  }
}

// After the attach: engine.io re-registers the "request" listeners it finds when attaching.
httpServer.prependListener("request", logRequest);
httpServer.prependListener("upgrade", logRequest);

function authOf(socket) {
  return (socket.handshake && socket.handshake.auth) || {};
}

function setup(nsp) {
  nsp.on("connection", (socket) => {
    socket.emit("welcome", { nsp: nsp.name, auth: authOf(socket) });

    socket.on("echo", (...args) => {
      const ack = args.pop();
      if (typeof ack === "function") ack(...args);
    });
    socket.on("echo-back", (...args) => socket.emit("echo-back", ...args));
    socket.on("info", (ack) =>
      ack({
        id: socket.id,
        nsp: nsp.name,
        auth: authOf(socket),
        query: socket.handshake.query,
        headers: socket.handshake.headers,
        transport: socket.conn.transport.name,
        recovered: !!socket.recovered,
      })
    );
    socket.on("requests", (ack) => ack(requestLog));
    socket.on("record", (value, ack) => {
      received.push(value);
      if (typeof ack === "function") ack();
    });
    socket.on("received", (ack) => ack(received));
    socket.on("flaky", (value, ack) => {
      const tries = (flakyTries.get(value) || 0) + 1;
      flakyTries.set(value, tries);
      if (tries >= 2) {
        received.push(value);
        ack(value);
      }
    });
    socket.on("ask", (spec, ack) => {
      if (opts.v2) {
        // socket.io 2.x has no ack timeouts
        socket.emit(spec.event, ...(spec.args || []), (...reply) => ack({ reply }));
        return;
      }
      socket.timeout(2000).emit(spec.event, ...(spec.args || []), (err, ...reply) => {
        ack(err ? { error: "timeout" } : { reply });
      });
    });
    socket.on("kick", () => socket.disconnect());
    socket.on("drop", (n) => {
      const room = socket.id;
      socket.conn.close();
      // Sent while the connection closes: lost on the wire, kept for recovery.
      for (let i = 0; i < n; i++) {
        nsp.to(room).emit("missed", i);
      }
    });
    socket.on("broadcast", (event, ...args) => nsp.emit(event, ...args));
  });
}

setup(io.of("/"));
setup(io.of("/chat"));
const priv = io.of("/private");
priv.use((socket, next) => {
  if (authOf(socket).token === "secret") {
    next();
    return;
  }
  const err = new Error("not authorized");
  err.data = { reason: "bad token" };
  next(err);
});
setup(priv);

httpServer.listen(opts.port, opts.host, () => {
  const { port } = httpServer.address();
  process.stdout.write(JSON.stringify({ listening: { host: opts.host, port } }) + "\n");
});

function shutdown() {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
