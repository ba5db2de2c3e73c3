// What the clients of several siox workers or machines have in common (socket.io-client),
// shared by workers_clients.js (one machine, several workers) and balancer_clients.js
// (several machines behind a load balancer).
//
// `clients(url, defaults)` opens sockets with reconnection off, no keep-alive (a new TCP
// connection per request, so requests land on any worker) and `defaults` merged into each
// socket's options; every socket it opened is closed when `run` ends. `run(scenarios, name)`
// runs one scenario and prints one line {"result": ...} or {"error": "..."} (exit status 1),
// bounded by TIMEOUT_MS.
"use strict";

const { io } = require("socket.io-client");

const TIMEOUT_MS = 25000;
const WAIT_MS = 5000;
const opened = [];

/** Emits `args` with an ack; the ack's arguments (rejects after WAIT_MS). */
function ack(socket, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${args[0]}`)), WAIT_MS);
    socket.emit(...args, (...reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

/** A `connect(options, client = io)` that opens a socket and resolves once it is connected. */
function clients(url, defaults = {}) {
  return function connect(options, client = io) {
    const socket = client(url, {
      forceNew: true,
      reconnection: false,
      agent: false,
      ...defaults,
      ...options,
    });
    opened.push(socket);
    if (socket.io.engine) socket.settled = settled(socket.io.engine);
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
  };
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

/** `n` "echo" round trips, each checked. */
async function roundTrips(socket, n) {
  for (let i = 0; i < n; i++) {
    const [value] = await ack(socket, "echo", i);
    if (value !== i) {
      throw new Error(`echo ${i} answered ${JSON.stringify(value)}`);
    }
  }
}

/**
 * Every socket joins room "r1"; the first shouts "news" to it, the last asks all of them
 * (a broadcast with acks), the first fetches the room's sockets.
 */
async function roomExchange(sockets) {
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
  return { news, replies, fetched, ids: sockets.map((s) => s.id).sort() };
}

/** Runs `scenarios[name]` and prints its result or error; closes every socket opened. */
async function run(scenarios, name) {
  const timer = setTimeout(() => {
    console.log(JSON.stringify({ error: "scenario timed out" }));
    process.exit(1);
  }, TIMEOUT_MS);
  try {
    const scenario = scenarios[name];
    if (!scenario) throw new Error(`no scenario ${name}`);
    const result = await scenario();
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

module.exports = { WAIT_MS, ack, clients, roundTrips, roomExchange, run };
