// Interop scenarios run by the real socket.io-client 4.8.4 against a server under test (the siox
// app of tests/interop/siox_app.py, or the Node control tests/node/reference_server.js; the
// events used here are listed at the top of reference_server.js).
//
// Usage: node client_scenarios.js <scenario> <url> [--parser default|msgpack]
//                                 [--transports default|websocket|polling]
// A scenario observes and reports; the assertions live in tests/interop/test_*.py. Output is JSON
// lines on stdout: progress lines {"phase": ...} (the "restart" scenario waits for the test to
// restart the server after {"phase": "connected"}), then one {"result": {...}} line, or
// {"error": "...", "recorded": {...}} with exit status 1. Bytes are written as {"$bin": base64}.
// Every wait has its own timeout and the whole scenario is bounded by SCENARIO_TIMEOUT_MS.
"use strict";

const { io, Manager } = require("socket.io-client");
const msgpackParser = require("socket.io-msgpack-parser");

const SCENARIO_TIMEOUT_MS = 25000;
const WAIT_MS = 5000;

function parseArgs(argv) {
  const [scenario, url, ...rest] = argv;
  const opts = { scenario, url, parser: "default", transports: "default" };
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i].replace(/^--/, "");
    if (!(key in opts) || i + 1 >= rest.length) {
      throw new Error(`bad option ${rest[i]}`);
    }
    opts[key] = rest[i + 1];
  }
  if (!scenario || !url) {
    throw new Error("usage: client_scenarios.js <scenario> <url> [--parser P] [--transports T]");
  }
  return opts;
}

const OPTS = parseArgs(process.argv.slice(2));
const sockets = [];
const recorded = {}; // what each recorder saw, printed with an error to help diagnose it

function isBinary(value) {
  return Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function toBuffer(value) {
  if (Buffer.isBuffer(value)) {
    return value;
  }
  if (value instanceof ArrayBuffer) {
    return Buffer.from(value);
  }
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function tag(value) {
  if (isBinary(value)) {
    return { $bin: toBuffer(value).toString("base64") };
  }
  if (Array.isArray(value)) {
    return value.map(tag);
  }
  if (value instanceof Error) {
    return { message: value.message, data: tag(value.data) };
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tag(v)]));
  }
  return value === undefined ? null : value;
}

function print(obj) {
  process.stdout.write(JSON.stringify(tag(obj)) + "\n");
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Resolves with the event's arguments (an array) the next time it fires.
function once(emitter, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    const handler = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, handler);
  });
}

function clientOptions(extra = {}) {
  const opts = { forceNew: true, reconnection: false, timeout: WAIT_MS, ...extra };
  if (OPTS.transports !== "default" && !("transports" in extra)) {
    opts.transports = [OPTS.transports];
  }
  if (OPTS.parser === "msgpack") {
    opts.parser = msgpackParser;
  }
  return opts;
}

function track(socket) {
  sockets.push(socket);
  return socket;
}

// A socket on `nsp` of a new connection, once connected (rejects on connect_error).
async function connect(nsp = "/", extra = {}) {
  const socket = track(io(OPTS.url + nsp, clientOptions(extra)));
  return awaitConnect(socket);
}

function awaitConnect(socket) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out connecting")), WAIT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(new Error(`connect_error: ${err.message}`));
    });
  });
}

// The ack arguments (an array) of an emit, or {timeout: true} when no ack came in `ms`.
function ack(socket, event, args = [], ms = WAIT_MS) {
  return new Promise((resolve) => {
    socket.timeout(ms).emit(event, ...args, (err, ...answer) => {
      resolve(err ? { timeout: true } : answer);
    });
  });
}

// Records every event (name and args) a socket receives, in order; `until(name)` waits for one.
function recorder(socket) {
  const seen = [];
  recorded[`${socket.nsp}#${Object.keys(recorded).length}`] = seen;
  const waiters = [];
  socket.onAny((event, ...args) => {
    seen.push([event, ...args]);
    for (const waiter of waiters.slice()) {
      if (waiter.event === event) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(args);
      }
    }
  });
  return {
    seen,
    named: (prefix) => seen.filter(([event]) => event.startsWith(prefix)),
    until(event, ms = WAIT_MS) {
      const found = seen.find(([name]) => name === event);
      if (found) {
        return Promise.resolve(found.slice(1));
      }
      return new Promise((resolve, reject) => {
        const waiter = { event, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          if (waiters.includes(waiter)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            reject(new Error(`timed out waiting for "${event}"`));
          }
        }, ms);
      });
    },
  };
}

async function echoRound(socket) {
  const back = once(socket, "message-back");
  socket.emit("message", 1, "2", { 3: [true] });
  return {
    message_back: await back,
    ack: await ack(socket, "message-with-ack", [1, "2", { 3: [false] }]),
  };
}

const scenarios = {
  // Echo and acks over the transport chosen with --transports; "default" starts with polling
  // and must upgrade to WebSocket.
  async transport() {
    const socket = track(io(OPTS.url, clientOptions()));
    const engine = socket.io.engine; // created at once: the Manager opens in its constructor
    const result = { initial_transport: engine.transport.name };
    const upgraded = once(engine, "upgrade");
    upgraded.catch(() => {}); // awaited only when an upgrade is expected
    await awaitConnect(socket);
    result.before = await echoRound(socket);
    if (OPTS.transports === "default") {
      await upgraded;
    }
    result.after = await echoRound(socket);
    const many = [];
    for (let i = 0; i < 20; i++) {
      many.push(ack(socket, "message-with-ack", [i, "x".repeat(i * 500)]));
    }
    result.many_acks = (await Promise.all(many)).map(([i, text]) => [i, text.length]);
    result.final_transport = engine.transport.name;
    return result;
  },

  // "/" and "/custom" on one connection, dynamic namespaces, and unknown ones refused.
  async namespaces() {
    const manager = new Manager(OPTS.url, clientOptions());
    const open = (nsp) => track(manager.socket(nsp));
    const root = open("/");
    const custom = open("/custom");
    const dyn = open("/dyn-42");
    const dyn2 = open("/dyn-7");
    const recorders = Object.fromEntries(
      [root, custom, dyn, dyn2].map((s) => [s.nsp, recorder(s)])
    );
    await Promise.all([root, custom, dyn, dyn2].map(awaitConnect));
    const result = {
      greetings: {
        "/": await recorders["/"].until("auth"),
        "/custom": await recorders["/custom"].until("auth"),
        "/dyn-42": await recorders["/dyn-42"].until("welcome"),
        "/dyn-7": await recorders["/dyn-7"].until("welcome"),
      },
      whoami: {},
      refused: {},
    };
    for (const socket of [root, custom, dyn, dyn2]) {
      const [me] = await ack(socket, "whoami");
      result.whoami[socket.nsp] = { nsp: me.nsp, id_matches: me.id === socket.id };
    }
    result.one_engine = manager.engine === root.io.engine && root.io === dyn.io;
    // Namespaces do not leak into each other: "/custom"'s echo never reaches "/".
    const back = once(custom, "message-back");
    custom.emit("message", "only-custom");
    result.custom_echo = await back;
    await ack(root, "message-with-ack", ["sync"]);
    result.root_events = recorders["/"].seen.filter(([e]) => e !== "auth");
    for (const nsp of ["/random", "/dyn-x"]) {
      const bad = open(nsp);
      const [err] = await once(bad, "connect_error");
      result.refused[nsp] = { message: err.message, data: err.data ?? null };
    }
    return result;
  },

  // A middleware refuses with CONNECT_ERROR carrying data; the right token gets through.
  async auth() {
    const result = {};
    for (const [label, auth] of [
      ["none", undefined],
      ["wrong", { token: "nope" }],
    ]) {
      const socket = track(io(OPTS.url + "/private", clientOptions(auth ? { auth } : {})));
      const [err] = await once(socket, "connect_error");
      await sleep(50);
      result[label] = {
        message: err.message,
        data: err.data ?? null,
        connected: socket.connected,
        active: socket.active,
      };
    }
    const ok = track(io(OPTS.url + "/private", clientOptions({ auth: { token: "secret" } })));
    const rec = recorder(ok);
    await awaitConnect(ok);
    result.right = {
      welcome: await rec.until("welcome"),
      echo: await ack(ok, "message-with-ack", ["in"]),
    };
    const root = track(io(OPTS.url, clientOptions({ auth: { token: "123" } })));
    const rootRec = recorder(root);
    await awaitConnect(root);
    result.root_auth_echo = await rootRec.until("auth");
    return result;
  },

  // Acks both ways, with no arguments, several arguments, and timeouts on each side.
  async acks() {
    const socket = await connect("/");
    socket.on("question", (a, b, cb) => cb({ got: [a, b] }, "extra"));
    socket.on("empty-question", (cb) => cb());
    // nothing listens to "ignored-question": the server's ack must time out
    const result = {
      client_to_server: await ack(socket, "message-with-ack", ["a", 1, null, { x: [1, 2] }]),
      client_to_server_empty: await ack(socket, "message-with-ack"),
    };
    let started = Date.now();
    try {
      await socket.timeout(300).emitWithAck("nobody-answers", 1);
      result.client_timeout = { error: null };
    } catch (err) {
      result.client_timeout = { error: err.message, elapsed_ms: Date.now() - started };
    }
    const ask = (spec) => ack(socket, "ask-me", [spec]).then(([answer]) => answer);
    result.server_to_client = await ask({ event: "question", args: [1, "two"], timeout_ms: 3000 });
    result.server_to_client_empty = await ask({ event: "empty-question", timeout_ms: 3000 });
    started = Date.now();
    result.server_timeout = await ask({ event: "ignored-question", args: [1], timeout_ms: 300 });
    result.server_timeout_elapsed_ms = Date.now() - started;
    result.still_usable = await ack(socket, "message-with-ack", ["after"]);
    return result;
  },

  // Bytes in events and acks, both directions, nested, empty and large.
  async binary() {
    const socket = await connect("/");
    socket.on("bin-question", (buf, cb) => cb(Buffer.concat([toBuffer(buf), Buffer.from([255])])));
    const payload = [
      Buffer.from([1, 2, 3]),
      { nested: Buffer.from([4, 5]), list: [Buffer.alloc(0), "text", 6] },
    ];
    const back = once(socket, "message-back");
    socket.emit("message", ...payload);
    const big = Buffer.alloc(200000);
    for (let i = 0; i < big.length; i++) {
      big[i] = (i * 31) & 0xff;
    }
    const [bigBack] = await ack(socket, "message-with-ack", [big]);
    const [answer] = await ack(socket, "ask-me", [
      { event: "bin-question", args: [Buffer.from([1, 2])], timeout_ms: 3000 },
    ]);
    return {
      event_echo: await back,
      ack_echo: await ack(socket, "message-with-ack", [
        Buffer.from([9, 8]),
        { b: Buffer.from([7]) },
      ]),
      big_ack_equal: isBinary(bigBack) && toBuffer(bigBack).equals(big),
      server_to_client: answer,
    };
  },

  // Rooms: join/leave, socket.to, to().except(), several rooms, everyone, a socket's own room.
  async rooms() {
    const [a, b, c] = await Promise.all([connect("/"), connect("/"), connect("/")]);
    const recs = { a: recorder(a), b: recorder(b), c: recorder(c) };
    const joined = {
      a: await ack(a, "join", ["r1"]),
      b: [await ack(b, "join", ["r1"]), await ack(b, "join", ["r2"])],
      c: await ack(c, "join", ["r2"]),
    };
    const emit = (socket, spec) => ack(socket, "emit", [spec]);
    await emit(a, { from: "socket", to: ["r1"], event: "e1-socket-to-r1" });
    await emit(a, { from: "server", to: ["r1"], except: ["r2"], event: "e2-r1-except-r2" });
    await emit(a, { from: "server", to: ["r1", "r2"], event: "e3-r1-and-r2" });
    await emit(a, { from: "server", event: "e4-everyone", args: [4] });
    await emit(a, { from: "socket", event: "e5-everyone-but-a" });
    const left = await ack(b, "leave", ["r1"]);
    await emit(a, { from: "server", to: ["r1"], event: "e6-r1-after-leave" });
    await emit(a, { from: "server", except: ["r1"], event: "e7-except-r1" });
    await emit(a, { from: "server", to: [c.id], event: "e8-to-c-id" });
    await emit(a, { from: "server", event: "barrier" });
    await Promise.all(Object.values(recs).map((r) => r.until("barrier")));
    const names = (rec) =>
      rec.named("e").map(([event, ...args]) => (args.length ? [event, ...args] : event));
    return { joined, b_after_leave: left, a: names(recs.a), b: names(recs.b), c: names(recs.c) };
  },

  // Broadcast with acks: a client that never answers makes the operation time out with the
  // replies of the others; a room where everyone answers completes early; an empty room at once.
  async "broadcast-acks"() {
    const [a, b, c] = await Promise.all([connect("/"), connect("/"), connect("/")]);
    a.on("quiz-question", (n, cb) => cb({ from: "a", n }));
    b.on("quiz-question", (n, cb) => cb({ from: "b", n }));
    // c has no listener: it never answers
    for (const socket of [a, b, c]) {
      await ack(socket, "join", ["quiz"]);
    }
    await ack(a, "join", ["quiz-ok"]);
    await ack(b, "join", ["quiz-ok"]);
    const askRoom = async (room, ms) => {
      const started = Date.now();
      const [answer] = await ack(a, "ask-room", [
        { room, event: "quiz-question", args: [7], timeout_ms: ms },
      ]);
      return { ...answer, elapsed_ms: Date.now() - started };
    };
    return {
      with_silent_client: await askRoom("quiz", 500),
      all_answer: await askRoom("quiz-ok", 3000),
      empty_room: await askRoom("nobody-here", 3000),
    };
  },

  // A volatile emit reaches an idle client (volatile packets may be dropped, not must be).
  async volatile() {
    // WebSocket only: over polling, "idle" would depend on whether a GET is pending just then.
    const socket = await connect("/", { transports: ["websocket"] });
    const rec = recorder(socket);
    const spec = { from: "server", to: [socket.id], volatile: true, event: "v-idle", args: [1] };
    await ack(socket, "emit", [spec]);
    await ack(socket, "emit", [{ from: "server", to: [socket.id], event: "barrier" }]);
    await rec.until("barrier");
    return { received: rec.seen.filter(([e]) => e !== "auth") };
  },

  // The server disconnects one namespace, then the other; the client must not reconnect.
  async "server-disconnect"() {
    const manager = new Manager(
      OPTS.url,
      clientOptions({ reconnection: true, reconnectionDelay: 100 })
    );
    const root = track(manager.socket("/"));
    const custom = track(manager.socket("/custom"));
    await Promise.all([awaitConnect(root), awaitConnect(custom)]);
    let attempts = 0;
    manager.on("reconnect_attempt", () => attempts++);
    const customGone = once(custom, "disconnect");
    custom.emit("kick");
    const [customReason] = await customGone;
    const rootStillThere = await ack(root, "message-with-ack", ["still here"]);
    const rootGone = once(root, "disconnect");
    root.emit("kick");
    const [rootReason] = await rootGone;
    await sleep(500);
    return {
      custom_reason: customReason,
      root_after_custom_kick: rootStillThere,
      root_reason: rootReason,
      connected_after: [root.connected, custom.connected],
      reconnect_attempts: attempts,
    };
  },

  // The client reconnects by itself after the server process restarts (the test restarts it
  // after the "connected" phase line).
  async restart() {
    const socket = track(
      io(OPTS.url, clientOptions({
        reconnection: true,
        reconnectionDelay: 100,
        reconnectionDelayMax: 300,
        randomizationFactor: 0,
      }))
    );
    await awaitConnect(socket);
    const firstId = socket.id;
    let attempts = 0;
    socket.io.on("reconnect_attempt", () => attempts++);
    const gone = once(socket, "disconnect", 15000);
    const back = once(socket.io, "reconnect", 15000);
    print({ phase: "connected", id: firstId });
    const [reason] = await gone;
    await back;
    if (!socket.connected) {
      await once(socket, "connect");
    }
    return {
      disconnect_reason: reason,
      reconnect_attempts: attempts,
      new_id: socket.id !== firstId,
      recovered: socket.recovered,
      echo: await ack(socket, "message-with-ack", ["after restart"]),
    };
  },

  // Connection state recovery (server profile "recovery"): after a transport loss the session is
  // restored with its id and rooms, and missed non-volatile events are replayed (volatile ones
  // and those for rooms it is not in are not). Offsets are the last argument of every event.
  async recovery() {
    // Reconnection is left to the scenario (a.connect() below), so that every emit of the
    // helper b surely happens while a is away, however slow the machine.
    const a = track(io(OPTS.url, clientOptions()));
    const recA = recorder(a);
    await awaitConnect(a);
    const b = await connect("/");
    await recA.until("auth");
    await ack(a, "join", ["r-rec"]);
    const firstId = a.id;
    const gone = once(a, "disconnect");
    a.io.engine.close(); // the transport goes away without a DISCONNECT packet
    const [reason] = await gone;
    const emit = (spec) => ack(b, "emit", [spec]);
    await emit({ from: "server", volatile: true, event: "m-volatile", args: [0] });
    await emit({ from: "server", event: "m-everyone", args: [1] });
    await emit({ from: "server", to: ["r-rec"], event: "m-room", args: [2] });
    await emit({ from: "server", to: ["elsewhere"], event: "m-other-room", args: [3] });
    a.connect(); // the CONNECT packet carries the session id and the last offset received
    await awaitConnect(a);
    await emit({ from: "server", event: "barrier" });
    await recA.until("barrier");
    const [me] = await ack(a, "whoami");
    const strip = ([event, ...args]) => {
      const offset = args.pop();
      return { event, args, offset_is_string: typeof offset === "string" };
    };
    return {
      disconnect_reason: reason,
      recovered: a.recovered,
      same_id: a.id === firstId,
      missed: recA.named("m-").map(strip),
      whoami: { recovered: me.recovered, rooms: me.rooms, same_id: me.id === firstId },
    };
  },
};

async function main() {
  const scenario = scenarios[OPTS.scenario];
  if (!scenario) {
    throw new Error(`unknown scenario ${OPTS.scenario}; known: ${Object.keys(scenarios)}`);
  }
  const result = await scenario();
  print({ result });
}

const deadline = setTimeout(() => {
  print({ error: `scenario took longer than ${SCENARIO_TIMEOUT_MS} ms`, recorded });
  process.exit(2);
}, SCENARIO_TIMEOUT_MS);

main()
  .then(() => {
    clearTimeout(deadline);
    for (const socket of sockets) {
      socket.disconnect();
    }
    setTimeout(() => process.exit(0), 50);
  })
  .catch((err) => {
    print({ error: err.stack || String(err), recorded });
    process.exit(1);
  });
