// Clients of a siox app served by several workers (tests/workers/workers_app.py), driven by
// tests/workers/test_workers_node.py.
//
// Usage: node workers_clients.js <url> <scenario> [count]
//   sessions  socket.io-client@4, polling only, no keep-alive (every request is a new TCP
//             connection, so requests land on any worker): connects until it holds a session
//             of each of <count> workers, then 100 echo round trips per client.
//   upgrade   socket.io-client@4, polling then WebSocket, no keep-alive: upgrades and echoes.
//   v2        socket.io-client@2 (Engine.IO v3), polling only, no keep-alive: 100 round trips.
//   room      two polling clients, one per worker, join a room; a shout reaches both, and a
//             broadcast with acks gets both replies; fetch lists both.
// Output: one line {"result": ...} or {"error": "..."} (exit status 1). Bounded by TIMEOUT_MS.
"use strict";

const { io } = require("socket.io-client");
const ioV2 = require("socket.io-client-v2");

const TIMEOUT_MS = 25000;
const WAIT_MS = 5000;
const [url, scenario, countArg] = process.argv.slice(2);
const count = Number(countArg || 2);
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

function connect(options, client = io) {
  const socket = client(url, { forceNew: true, reconnection: false, agent: false, ...options });
  opened.push(socket);
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

async function onePerWorker(options, client = io) {
  const byWorker = new Map();
  for (let attempt = 0; attempt < 20 && byWorker.size < count; attempt++) {
    const socket = await connect(options, client);
    const [me] = await ack(socket, "whoami");
    if (byWorker.has(me.index)) {
      socket.close();
    } else {
      byWorker.set(me.index, socket);
    }
  }
  if (byWorker.size < count) {
    throw new Error(`sessions only on workers ${[...byWorker.keys()]}`);
  }
  return byWorker;
}

async function sessions() {
  const byWorker = await onePerWorker({ transports: ["polling"] });
  await Promise.all([...byWorker.values()].map((socket) => roundTrips(socket, 100)));
  const sids = {};
  for (const [index, socket] of byWorker) {
    sids[index] = socket.io.engine.id;
  }
  return { sids, transport: [...byWorker.values()].map((s) => s.io.engine.transport.name) };
}

async function upgrade() {
  const byWorker = await onePerWorker({ transports: ["polling", "websocket"] });
  const names = [];
  for (const socket of byWorker.values()) {
    const deadline = Date.now() + WAIT_MS;
    while (socket.io.engine.transport.name !== "websocket" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await roundTrips(socket, 10);
    names.push(socket.io.engine.transport.name);
  }
  return { transports: names };
}

async function v2() {
  const byWorker = await onePerWorker({ transports: ["polling"] }, ioV2);
  await Promise.all([...byWorker.values()].map((socket) => roundTrips(socket, 100)));
  return { workers: [...byWorker.keys()].sort() };
}

async function room() {
  const byWorker = await onePerWorker({ transports: ["polling"] });
  const sockets = [...byWorker.values()];
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
  const [replies] = await ack(sockets[1], "ask_all", 3.0);
  const [fetched] = await ack(sockets[0], "fetch");
  return { news, replies, fetched, ids: sockets.map((s) => s.id).sort() };
}

const scenarios = { sessions, upgrade, v2, room };

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
