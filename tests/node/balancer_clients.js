// socket.io-client@4 clients of several siox machines behind a load balancer (haproxy, nginx),
// driven by tests/workers/test_haproxy.py.
//
// Usage: node balancer_clients.js <url> <scenario> <clients> [cookies]
//   polling  <clients> polling-only clients: each asks `whoami` and makes 50 echo round trips.
//   upgrade  <clients> clients allowed to upgrade: each waits for its transport to become
//            WebSocket or its upgrade to fail (then it stays on polling), then 10 echo round trips.
//   room     <clients> polling-only clients (more until two machines own sessions) join a
//            room: a shout reaches all, a broadcast with acks gets every reply, fetch_sockets
//            lists every socket.
// No keep-alive (a new TCP connection per request). With `cookies`, the clients keep the
// balancer's cookies (withCredentials), as browsers do.
// Output: one line {"result": ...} or {"error": "..."} (exit status 1). Bounded by TIMEOUT_MS.
"use strict";

const http = require("node:http");
const { io } = require("socket.io-client");

const TIMEOUT_MS = 25000;
const WAIT_MS = 5000;
const [url, scenario, clientsArg, cookiesArg] = process.argv.slice(2);
const clients = Number(clientsArg || 2);
const withCredentials = cookiesArg === "cookies";
const opened = [];

function ack(socket, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${args[0]}`)), WAIT_MS);
    socket.emit(...args, (...reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

function connect(transports) {
  const socket = io(url, {
    forceNew: true,
    reconnection: false,
    agent: false,
    transports,
    withCredentials,
  });
  opened.push(socket);
  socket.settled = settled(socket.io.engine);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("connect timed out")), WAIT_MS);
    socket.on("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.on("connect_error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function roundTrips(socket, n) {
  for (let i = 0; i < n; i++) {
    const [value] = await ack(socket, "echo", i);
    if (value !== i) {
      throw new Error(`echo ${i} answered ${JSON.stringify(value)}`);
    }
  }
}

async function describe(socket) {
  const [me] = await ack(socket, "whoami");
  return { sid: socket.io.engine.id, pid: me.pid, transport: socket.io.engine.transport.name };
}

async function many(transports) {
  const sockets = [];
  for (let i = 0; i < clients; i++) {
    sockets.push(await connect(transports));
  }
  return sockets;
}

async function polling() {
  const sockets = await many(["polling"]);
  await Promise.all(sockets.map((socket) => roundTrips(socket, 50)));
  return Promise.all(sockets.map(describe));
}

function settled(engine) {
  // the upgrade succeeds, or fails (the client then stays on polling), or WAIT_MS passes
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, WAIT_MS);
    timer.unref(); // polling-only clients never settle: do not hold the process
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    engine.on("upgrade", done);
    engine.on("upgradeError", done);
  });
}

async function upgrade() {
  const sockets = await many(["polling", "websocket"]);
  await Promise.all(sockets.map((socket) => socket.settled));
  await Promise.all(sockets.map((socket) => roundTrips(socket, 10)));
  return Promise.all(sockets.map(describe));
}

function nudge() {
  // one stray request (answered 400), so that a round-robin balancer's turn moves on by one
  return new Promise((resolve) => {
    const target = new URL("/socket.io/?EIO=4&transport=polling&sid=none", url);
    http.get(target, { agent: false }, (res) => res.resume().on("end", resolve)).on("error", resolve);
  });
}

function node(socket) {
  // the machine part of a siox session id when requests are forwarded between machines
  return socket.io.engine.id.slice(1, 5);
}

async function room() {
  // at least <clients> clients, and more until they hold sessions of two machines (a
  // balancer's turn may give every handshake to the same machine)
  const sockets = await many(["polling"]);
  while (new Set(sockets.map(node)).size < 2 && sockets.length < 3 * clients) {
    await nudge();
    sockets.push(await connect(["polling"]));
  }
  const heard = sockets.map(
    (socket) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no shout")), WAIT_MS);
        socket.on("news", (data) => {
          clearTimeout(timer);
          resolve(data);
        });
      }),
  );
  for (const socket of sockets) {
    await ack(socket, "join", "r1");
    socket.on("ask", (callback) => callback(socket.id));
  }
  await ack(sockets[0], "shout", "r1", "news", "hello");
  const news = await Promise.all(heard);
  const [replies] = await ack(sockets[sockets.length - 1], "ask_all", 3.0);
  const [fetched] = await ack(sockets[0], "fetch");
  const described = await Promise.all(sockets.map(describe));
  return { news, replies, fetched, ids: sockets.map((s) => s.id).sort(), clients: described };
}

const scenarios = { polling, upgrade, room };

async function main() {
  const timer = setTimeout(() => {
    console.log(JSON.stringify({ error: "scenario timed out" }));
    process.exit(1);
  }, TIMEOUT_MS);
  try {
    const result = await scenarios[scenario]();
    console.log(JSON.stringify({ result }));
  } catch (err) {
    console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
    process.exitCode = 1;
  } finally {
    clearTimeout(timer);
    for (const socket of opened) {
      socket.close();
    }
  }
}

main();
