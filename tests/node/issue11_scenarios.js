// Issue 11 scenarios for the real socket.io-client@4 against an in-process siox server
// (tests/interop/test_issue11_interop.py).
//
// Usage: node issue11_scenarios.js <scenario> <url>
//   "echo":      connect, emitWithAck("echo", 1), disconnect (serving again after a shutdown).
//   "away-emit": connect to a recovery-enabled server (which says "hello" on connect, so
//                that the client has an offset); the transport goes away
//                (engine.close()); the server's disconnect handler emits "while-away" to that
//                socket; the client reconnects and reports what it got and whether it was
//                recovered.
//   "message":   socket.send("from client", 21); the server asks "question" (21) with an ack
//                timeout and answers with socket.send(text, the client's ack).
//   "engine-id": connect with path "/rt" and addTrailingSlash false; report the Engine.IO id.
//   "typo":      emit "emit-typo" (the server emits to an undefined namespace), then connect
//                to "/typo" and report the connect_error message.
//   "dynamic":   sockets on /room-a and /room-b (children of one dynamic namespace rule) each
//                answer "q" with their namespace; /room-a emits "go" and the server's parent
//                operations run; report what each heard and why each disconnected.
//   "compress":  over each transport (websocket, with permessage-deflate as Node's ws offers
//                it; polling), ask for "big" with compress true and false, single and
//                broadcast, and report the lengths received.
// Prints one line {"result": ...} or {"error": ...}; bounded by SCENARIO_TIMEOUT_MS.
"use strict";

const { io } = require("socket.io-client");

const SCENARIO_TIMEOUT_MS = 15000;

function connect(url, options = {}) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { forceNew: true, reconnection: false, ...options });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

function once(socket, event) {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

const SCENARIOS = {
  async echo(url) {
    const socket = await connect(url);
    const reply = await socket.timeout(5000).emitWithAck("echo", 1);
    socket.close();
    return { reply };
  },

  async "away-emit"(url) {
    const hello = new Promise((resolve) => {
      const socket = io(url, { forceNew: true, reconnection: false });
      socket.once("hello", () => resolve(socket)); // an offset to come back with
    });
    const socket = await hello;
    const firstId = socket.id;
    const heard = [];
    socket.on("while-away", (...args) => heard.push(args));
    const gone = once(socket, "disconnect");
    socket.io.engine.close(); // no DISCONNECT packet: the server keeps the session
    const [reason] = await gone;
    await new Promise((resolve) => setTimeout(resolve, 200)); // the server emits meanwhile
    const back = once(socket, "connect");
    socket.connect();
    await back;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const result = { reason, recovered: socket.recovered, same_id: socket.id === firstId, heard };
    socket.close();
    return result;
  },

  async message(url) {
    const socket = await connect(url);
    socket.on("question", (value, ack) => ack(value * 2));
    const reply = once(socket, "message");
    socket.send("from client", 21); // emit("message", ...)
    const [text, doubled] = await reply;
    socket.close();
    return { text, doubled };
  },

  async "engine-id"(url) {
    // A server with generate_id and add_trailing_slash=False on path "/rt" (no slash).
    const socket = await connect(url, { path: "/rt", addTrailingSlash: false });
    const engineId = socket.io.engine.id;
    const reply = await socket.timeout(5000).emitWithAck("echo", engineId);
    socket.close();
    return { engine_id: engineId, reply };
  },

  async dynamic(url) {
    const a = await connect(`${url}/room-a`);
    const b = await connect(`${url}/room-b`);
    const heard = { a: [], b: [] };
    for (const [name, socket] of [["a", a], ["b", b]]) {
      socket.onAny((event, ...args) => heard[name].push([event, ...args]));
      socket.on("q", (ack) => ack(socket.nsp));
    }
    const gone = Promise.all([once(a, "disconnect"), once(b, "disconnect")]);
    const reply = await a.timeout(5000).emitWithAck("go");
    const [[reasonA], [reasonB]] = await gone;
    return { reply, heard, reasons: [reasonA, reasonB] };
  },

  async compress(url) {
    const result = {};
    for (const transport of ["websocket", "polling"]) {
      const socket = await connect(url, { transports: [transport] });
      const lengths = [];
      for (const kind of ["single", "broadcast"]) {
        for (const flag of [true, false]) {
          const got = once(socket, "big");
          socket.emit(kind, flag);
          const [data] = await got;
          lengths.push(data.length);
        }
      }
      result[transport] = lengths;
      socket.close();
    }
    return result;
  },

  async typo(url) {
    const main = await connect(url);
    await main.timeout(5000).emitWithAck("emit-typo");
    let error = null;
    try {
      const typo = await connect(`${url}/typo`);
      typo.close();
    } catch (caught) {
      error = caught.message;
    }
    main.close();
    return { error };
  },
};

async function main() {
  const [scenario, url] = process.argv.slice(2);
  const body = SCENARIOS[scenario];
  if (!body) throw new Error(`unknown scenario ${scenario}`);
  const timer = setTimeout(() => {
    process.stdout.write(JSON.stringify({ error: `scenario ${scenario} timed out` }) + "\n");
    process.exit(1);
  }, SCENARIO_TIMEOUT_MS);
  try {
    const result = await body(url);
    process.stdout.write(JSON.stringify({ result }) + "\n");
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error && error.stack) }) + "\n");
  } finally {
    clearTimeout(timer);
  }
}

main();
