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
// Output: one line {"result": ...} or {"error": "..."} (exit status 1); see session_clients.js.
"use strict";

const http = require("node:http");
const { ack, clients: connector, roundTrips, roomExchange, run } = require("./session_clients");

const [url, scenario, clientsArg, cookiesArg] = process.argv.slice(2);
const clients = Number(clientsArg || 2);
const connect = connector(url, { withCredentials: cookiesArg === "cookies" });

async function describe(socket) {
  const [me] = await ack(socket, "whoami");
  return { sid: socket.io.engine.id, pid: me.pid, transport: socket.io.engine.transport.name };
}

async function many(transports) {
  const sockets = [];
  for (let i = 0; i < clients; i++) {
    sockets.push(await connect({ transports }));
  }
  return sockets;
}

async function polling() {
  const sockets = await many(["polling"]);
  await Promise.all(sockets.map((socket) => roundTrips(socket, 50)));
  return Promise.all(sockets.map(describe));
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
    sockets.push(await connect({ transports: ["polling"] }));
  }
  const exchanged = await roomExchange(sockets);
  return { ...exchanged, clients: await Promise.all(sockets.map(describe)) };
}

run({ polling, upgrade, room }, scenario);
