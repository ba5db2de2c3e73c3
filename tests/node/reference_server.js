// The Node reference server (npm socket.io 4.8.4 / engine.io 6.6.x) that siox's conformance and
// interop tests use as their control: every suite and scenario must pass against it.
// tests/interop/siox_app.py is the same app written with siox; keep the two in step.
//
// Usage:
//   node reference_server.js --port 3000 [--host 127.0.0.1] [--app socketio|engineio]
//                            [--profile conformance|interop|recovery] [--parser default|msgpack]
//                            [--eio3]
// Prints one line {"listening": {"host": ..., "port": ...}} on stdout once it accepts connections.
// SIGTERM / SIGINT close the server the way socket.io does on shutdown, then exit.
//
// --app engineio: a bare Engine.IO echo server at /engine.io/ (what the engine.io-protocol
//   suites expect); --eio3 also accepts Engine.IO v3 clients (allowEIO3).
// --app socketio: a Socket.IO server at /socket.io/.
//   profile "conformance": what the socket.io-protocol suite expects (no state recovery).
//   profile "interop": the same app with a slower heartbeat, for the client scenarios.
//   profile "recovery": "interop" with connection state recovery on (every emit then carries an
//     offset, which socket.io-client passes to listeners as an extra last argument).
//
// Namespaces: "/" and "/custom" (on connect: emit "auth" with the handshake auth payload),
// the dynamic namespaces matching /^\/dyn-\d+$/ (on connect: emit "welcome" with the namespace
// name) and "/private" (a middleware refuses unless auth.token === "secret", with message
// "not authorized" and data {reason: "bad token"}; on connect: emit "welcome").
// Events handled in every namespace (an ack is sent only where stated):
//   "message" (...args)          -> emit "message-back" with the same args
//   "message-with-ack" (...args) -> ack with the same args
//   "join" (room) / "leave" (room) -> ack with the sorted rooms of the socket (its own id left out)
//   "whoami" ()                  -> ack {id, nsp, recovered, rooms}
//   "emit" (spec)                -> emit spec.event with spec.args, then ack with no args.
//       spec = {from: "server" | "socket", to: [rooms], except: [rooms], volatile: bool}
//       "server": the namespace (to/except applied); "socket": socket.to(...) (everyone else)
//   "ask-me" ({event, args, timeout_ms}) -> emit event to this socket with an ack and a
//       timeout, then ack {ok: [ack args]} or {error: "timeout"}
//   "ask-room" ({room, event, args, timeout_ms}) -> broadcast with acks to the room, then ack
//       {replies: [first ack arg of each client, arrival order], timed_out: bool}
//   "kick" ()                    -> disconnect this socket (client reason "io server disconnect")
// No handler exists for any other event (so "nobody-answers" is never acknowledged).
"use strict";

const http = require("http");

function parseArgs(argv) {
  const opts = {
    host: "127.0.0.1",
    port: 3000,
    app: "socketio",
    profile: "conformance",
    parser: "default",
    eio3: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--eio3") {
      opts.eio3 = true;
    } else if (arg.startsWith("--") && i + 1 < argv.length) {
      const key = arg.slice(2);
      if (!(key in opts)) {
        throw new Error(`unknown option ${arg}`);
      }
      opts[key] = key === "port" ? Number(argv[++i]) : argv[++i];
    } else {
      throw new Error(`bad argument ${arg}`);
    }
  }
  return opts;
}

function heartbeat(profile) {
  // The suites hard-code pingInterval 300 / pingTimeout 200; the interop scenarios use a slower
  // beat so that a busy 2-core machine does not drop sessions mid-scenario.
  return profile === "conformance"
    ? { pingInterval: 300, pingTimeout: 200 }
    : { pingInterval: 500, pingTimeout: 1000 };
}

function startEngineIO(httpServer, opts) {
  const { Server } = require("engine.io");
  const engine = new Server({
    ...heartbeat(opts.profile),
    allowEIO3: opts.eio3,
    path: "/engine.io/",
  });
  engine.attach(httpServer, { path: "/engine.io/" });
  engine.on("connection", (socket) => {
    socket.on("message", (data) => socket.send(data));
  });
  return engine;
}

function sortedRooms(socket) {
  return [...socket.rooms].filter((room) => room !== socket.id).sort();
}

function registerHandlers(socket) {
  socket.on("message", (...args) => {
    socket.emit("message-back", ...args);
  });
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    ack(sortedRooms(socket));
  });
  socket.on("leave", (room, ack) => {
    socket.leave(room);
    ack(sortedRooms(socket));
  });
  socket.on("whoami", (ack) => {
    ack({
      id: socket.id,
      nsp: socket.nsp.name,
      recovered: socket.recovered,
      rooms: sortedRooms(socket),
    });
  });
  socket.on("emit", (spec, ack) => {
    let target = spec.from === "socket" ? socket.broadcast : socket.nsp;
    for (const room of spec.to || []) {
      target = target.to(room);
    }
    for (const room of spec.except || []) {
      target = target.except(room);
    }
    if (spec.volatile) {
      target = target.volatile;
    }
    target.emit(spec.event, ...(spec.args || []));
    ack();
  });
  socket.on("ask-me", (spec, ack) => {
    socket.timeout(spec.timeout_ms).emit(spec.event, ...(spec.args || []), (err, ...answer) => {
      ack(err ? { error: "timeout" } : { ok: answer });
    });
  });
  socket.on("ask-room", (spec, ack) => {
    socket.nsp
      .to(spec.room)
      .timeout(spec.timeout_ms)
      .emit(spec.event, ...(spec.args || []), (err, replies) => {
        ack({ replies, timed_out: Boolean(err) });
      });
  });
  socket.on("kick", () => {
    socket.disconnect();
  });
}

function startSocketIO(httpServer, opts) {
  const { Server } = require("socket.io");
  const options = {
    ...heartbeat(opts.profile),
    // The suite's "no handshake" test ends within mocha's 2 s; the ping timeout closes first.
    connectTimeout: 1000,
    allowEIO3: opts.eio3,
  };
  if (opts.parser === "msgpack") {
    options.parser = require("socket.io-msgpack-parser");
  }
  if (opts.profile === "recovery") {
    options.connectionStateRecovery = {
      maxDisconnectionDuration: 30000,
      skipMiddlewares: true,
    };
  }
  const io = new Server(httpServer, options);

  const greetWithAuth = (socket) => {
    socket.emit("auth", socket.handshake.auth);
    registerHandlers(socket);
  };
  const greetWithName = (socket) => {
    socket.emit("welcome", socket.nsp.name);
    registerHandlers(socket);
  };
  io.on("connection", greetWithAuth);
  io.of("/custom").on("connection", greetWithAuth);
  io.of(/^\/dyn-\d+$/).on("connection", greetWithName);
  const priv = io.of("/private");
  priv.use((socket, next) => {
    if (socket.handshake.auth && socket.handshake.auth.token === "secret") {
      next();
      return;
    }
    const err = new Error("not authorized");
    err.data = { reason: "bad token" };
    next(err);
  });
  priv.on("connection", greetWithName);
  return io;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const httpServer = http.createServer();
  const server =
    opts.app === "engineio" ? startEngineIO(httpServer, opts) : startSocketIO(httpServer, opts);
  const stop = () => {
    server.close();
    httpServer.close();
    // Open keep-alive connections may hold the loop; leave shortly after closing.
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  httpServer.listen(opts.port, opts.host, () => {
    const address = httpServer.address();
    process.stdout.write(
      JSON.stringify({ listening: { host: address.address, port: address.port } }) + "\n"
    );
  });
}

main();
