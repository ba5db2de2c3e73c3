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
// Output: one line {"result": ...} or {"error": "..."} (exit status 1); see session_clients.js.
"use strict";

const ioV2 = require("socket.io-client-v2");
const { WAIT_MS, ack, clients, roundTrips, roomExchange, run } = require("./session_clients");

const [url, scenario, countArg] = process.argv.slice(2);
const count = Number(countArg || 2);
const connect = clients(url);

async function onePerWorker(options, client) {
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
  return roomExchange([...byWorker.values()]);
}

run({ sessions, upgrade, v2, room }, scenario);
