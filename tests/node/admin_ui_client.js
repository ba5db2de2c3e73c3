// socket.io-client@4 playing the Socket.IO Admin UI (@socket.io/admin-ui 0.5) against a siox
// server instrumented with sio.instrument() (tests/admin/test_admin_ui_interop.py).
//
// Usage: node admin_ui_client.js <scenario> <url> [username] [password]
//   "ui":         two app sockets on "/" (A, B); the admin logs in (session, config,
//                 all_sockets, server_stats), logs in again with its session id, makes A join
//                 "vip", emits "hello" to "vip", watches A's event, makes A leave "vip" and
//                 disconnects B; reports what the admin and the app sockets saw.
//   "refused":    logs in with each of: a wrong password, a wrong username, no credentials,
//                 a made-up session id; reports the connect_error messages.
//   "read-only":  logs in, reads config, asks A to join "vip" and B to be disconnected, and
//                 reports what the app sockets saw after the next server_stats.
//   "production": logs in, records every event until the second server_stats.
// Prints one line {"result": ...} or {"error": ...}; bounded by SCENARIO_TIMEOUT_MS.
"use strict";

const { io } = require("socket.io-client");

const SCENARIO_TIMEOUT_MS = 20000;

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

function once(socket, event, predicate = () => true) {
  return new Promise((resolve) => {
    const listener = (...args) => {
      if (predicate(...args)) {
        socket.off(event, listener);
        resolve(args);
      }
    };
    socket.on(event, listener);
  });
}

// The admin socket, with every event it gets recorded from the start (as the UI registers its
// listeners before connecting).
function admin(url, auth) {
  const log = [];
  const socket = io(url + "/admin", { forceNew: true, reconnection: false, auth });
  socket.onAny((event, ...args) => log.push([event, ...args]));
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve({ socket, log }));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

function first(log, event) {
  const found = log.find((entry) => entry[0] === event);
  return found ? found.slice(1) : null;
}

const SCENARIOS = {
  async ui(url, username, password) {
    const a = await connect(url);
    const b = await connect(url, { transports: ["polling"], upgrade: false });
    const ids = { a: a.id, b: b.id };
    const heardA = [];
    const heardB = [];
    a.onAny((...args) => heardA.push(args));
    b.onAny((...args) => heardB.push(args));
    const bGone = once(b, "disconnect");

    const { socket: ui, log } = await admin(url, { username, password });
    await once(ui, "server_stats");
    const session = first(log, "session");
    const config = first(log, "config");
    const allSockets = first(log, "all_sockets");
    const stats = first(log, "server_stats");

    const again = await admin(url, { sessionId: session[0] });
    const againConfig = await new Promise((resolve) => {
      const found = first(again.log, "config");
      if (found) resolve(found);
      else again.socket.once("config", (...args) => resolve(args));
    });
    again.socket.close();

    const joined = once(ui, "room_joined", (nsp, room, id) => room === "vip" && id === a.id);
    ui.emit("join", "/", "vip", a.id);
    const roomJoined = await joined;

    const hello = once(a, "hello");
    const sent = once(ui, "event_sent", (nsp, id, args) => id === a.id && args[0] === "hello");
    ui.emit("emit", "/", "vip", "hello", 1, { x: 2 });
    await hello;
    const eventSent = await sent;

    const received = once(ui, "event_received", (nsp, id) => id === a.id);
    a.emit("from-app", "payload");
    const eventReceived = await received;

    const left = once(ui, "room_left", (nsp, room, id) => room === "vip" && id === a.id);
    ui.emit("leave", "/", "vip", a.id);
    const roomLeft = await left;

    const gone = once(ui, "socket_disconnected", (nsp, id) => id === b.id);
    ui.emit("_disconnect", "/", false, b.id);
    const [reasonB] = await bGone;
    const socketDisconnected = await gone;
    const statsLater = await once(ui, "server_stats");
    const result = {
      ids,
      session,
      config,
      againConfig,
      allSockets,
      stats,
      statsLater,
      roomJoined,
      eventSent,
      eventReceived,
      roomLeft,
      socketDisconnected,
      reasonB,
      heardA,
      heardB,
      aConnected: a.connected,
      events: [...new Set(log.map((entry) => entry[0]))].sort(),
    };
    a.close();
    ui.close();
    return result;
  },

  async refused(url, username, password) {
    const attempts = {
      wrongPassword: { username, password: password + "x" },
      wrongUsername: { username: username + "x", password },
      nothing: undefined,
      madeUpSession: { sessionId: "0123456789abcdef" },
      notStrings: { username: 1, password: ["x"] },
    };
    const result = {};
    for (const [name, auth] of Object.entries(attempts)) {
      try {
        const { socket } = await admin(url, auth);
        socket.close();
        result[name] = "accepted";
      } catch (error) {
        result[name] = error.message;
      }
    }
    return result;
  },

  async "read-only"(url, username, password) {
    const a = await connect(url);
    const b = await connect(url);
    const heardA = [];
    a.onAny((...args) => heardA.push(args));
    const { socket: ui, log } = await admin(url, { username, password });
    await once(ui, "server_stats");
    ui.emit("join", "/", "vip", a.id);
    ui.emit("emit", "/", a.id, "hello", 1);
    ui.emit("_disconnect", "/", false, b.id);
    await once(ui, "server_stats");
    const result = {
      config: first(log, "config"),
      heardA,
      bConnected: b.connected,
      ids: { a: a.id, b: b.id },
    };
    a.close();
    b.close();
    ui.close();
    return result;
  },

  async production(url, username, password) {
    const a = await connect(url);
    const { socket: ui, log } = await admin(url, { username, password });
    await once(ui, "server_stats");
    a.emit("from-app", 1);
    const b = await connect(url);
    await once(ui, "server_stats");
    const result = { log };
    a.close();
    b.close();
    ui.close();
    return result;
  },
};

async function main() {
  const [scenario, url, username, password] = process.argv.slice(2);
  const run = SCENARIOS[scenario];
  if (!run) throw new Error(`unknown scenario ${scenario}`);
  const timer = setTimeout(() => {
    console.log(JSON.stringify({ error: `scenario ${scenario} timed out` }));
    process.exit(2);
  }, SCENARIO_TIMEOUT_MS);
  const result = await run(url, username, password);
  clearTimeout(timer);
  console.log(JSON.stringify({ result }));
  process.exit(0);
}

main().catch((error) => {
  console.log(JSON.stringify({ error: String(error && error.stack ? error.stack : error) }));
  process.exit(1);
});
