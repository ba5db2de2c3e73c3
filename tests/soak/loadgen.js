// Out-of-process load generator of the soak tests: many npm socket.io-client sockets in one
// Node process (tests/soak/loadgen.py starts several and adds their reports up).
//
//   node loadgen.js MODE URL FIRST COUNT SECONDS [EXTRA] [THINK_MS]
//
// Clients FIRST .. FIRST+COUNT-1 (the index picks the transport: every fifth is long-polling,
// the others WebSocket, except in "upgrade" where all start on polling and upgrade).
// Prints progress lines on stderr and one JSON report on stdout when done.
//
// MODE churn    connect / emit-with-ack "work"(index, n) / disconnect, each connection sends
//               1..EXTRA (5) events, each after a random pause of up to THINK_MS (0), until
//               SECONDS have passed; checks every ack's value.
// MODE upgrade  connect over polling and upgrade while the server sends numbered "n" packets;
//               each client sends "up"(index, n) every EXTRA (10) ms until the server's "stop"(last),
//               then "done"(index, count, transport) and waits for the numbers up to last.
// MODE shutdown connect, send 3 "slow" emit-with-ack, print "ready" on stdout, then record
//               each client's disconnect reason and ack outcomes (until all are gone or
//               SECONDS pass).
"use strict";
const path = require("path");
const { io } = require(path.join(__dirname, "..", "node", "node_modules", "socket.io-client"));

const [mode, url, firstArg, countArg, secondsArg, emitsArg] = process.argv.slice(2);
const FIRST = Number(firstArg);
const COUNT = Number(countArg);
const SECONDS = Number(secondsArg);
const EMITS = Number(emitsArg || 5); // churn: most events per connection
const UP_MS = Number(emitsArg || 10); // upgrade: ms between a client's "up" packets
const THINK_MS = Number(process.argv[8] || 0); // churn: a client's longest pause before an emit
const started = Date.now();
const elapsed = () => (Date.now() - started) / 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let seed = 14 + FIRST;
function random() {
  // mulberry32: a seeded generator, so runs of the same size make the same choices
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function open(transports) {
  return io(url, { transports, forceNew: true, multiplex: false, reconnection: false, timeout: 30000 });
}

function connected(socket) {
  // connect_error, or a close before the namespace's CONNECT came back ("disconnect"), or
  // nothing at all for 40 s: a connection that never comes is an error, never a hang
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error("no answer")), 40000);
    socket.once("connect", () => {
      clearTimeout(guard);
      resolve();
    });
    const fail = (err) => {
      clearTimeout(guard);
      reject(err instanceof Error ? err : new Error(`disconnect: ${err}`));
    };
    socket.once("connect_error", fail);
    socket.once("disconnect", fail);
  });
}

function percentile(values, q) {
  if (values.length === 0) return 0;
  const ordered = Float64Array.from(values).sort();
  return ordered[Math.min(ordered.length - 1, Math.floor(q * ordered.length))];
}

function progress(figures) {
  process.stderr.write(`loadgen ${mode} ${FIRST} t=${elapsed().toFixed(0)}s ${JSON.stringify(figures)}\n`);
}

let current = null; // the figures so far: printed as they are on SIGTERM
const latencies = []; // churn: every ack's round trip, ms

async function churn() {
  const s = (current = { connections: 0, connect_errors: 0, emits: 0, acked: 0, wrong: 0, ack_timeouts: 0, dropped: 0, connect_error_kinds: {} });
  const deadline = started + SECONDS * 1000;
  const ramp = Math.min(SECONDS * 0.2, COUNT / 100) * 1000; // at most ~100 new clients a second
  const timer = setInterval(() => progress(s), 30000);
  async function slot(index) {
    const transports = index % 5 === 0 ? ["polling"] : ["websocket"];
    let counter = 0;
    await sleep(random() * ramp);
    while (Date.now() < deadline) {
      const socket = open(transports);
      try {
        await connected(socket);
      } catch (err) {
        s.connect_errors++;
        const kind = `${err.message}${err.description ? ` (${err.description.message || err.description})` : ""}`;
        s.connect_error_kinds[kind] = (s.connect_error_kinds[kind] || 0) + 1;
        socket.close();
        await sleep(200);
        continue;
      }
      s.connections++;
      const emits = 1 + Math.floor(random() * EMITS);
      for (let i = 0; i < emits && Date.now() < deadline; i++) {
        if (THINK_MS) await sleep(random() * THINK_MS);
        if (!socket.connected) {
          s.dropped++;
          break;
        }
        counter++;
        s.emits++;
        const t0 = performance.now();
        let answer;
        try {
          answer = await socket.timeout(60000).emitWithAck("work", index, counter);
        } catch (err) {
          if (socket.connected) s.ack_timeouts++;
          else s.dropped++;
          break;
        }
        latencies.push(performance.now() - t0);
        if (Array.isArray(answer) && answer[0] === index && answer[1] === counter) s.acked++;
        else s.wrong++;
      }
      socket.disconnect();
    }
  }
  const slots = [];
  for (let i = FIRST; i < FIRST + COUNT; i++) slots.push(slot(i));
  await Promise.all(slots);
  clearInterval(timer);
  return s;
}

async function upgrade() {
  const s = (current = { clients: 0, connect_errors: 0, delivered_down: 0, down_broken_steps: 0, tail_missing: 0, sent_up: 0, upgraded: 0, last: 0 });
  const ramp = SECONDS * 500; // connections (and so upgrades) spread over the first half
  async function client(index) {
    await sleep(((index - FIRST) / COUNT) * ramp);
    const socket = open(["polling", "websocket"]);
    let previous = null;
    let count = 0;
    socket.on("n", (n) => {
      s.delivered_down++;
      if (previous !== null && n !== previous + 1) s.down_broken_steps++;
      previous = n;
    });
    const stopped = new Promise((resolve) => socket.once("stop", resolve));
    try {
      await connected(socket);
    } catch (err) {
      s.connect_errors++;
      socket.close();
      return;
    }
    s.clients++;
    let stop = false;
    const last = stopped.then((n) => {
      stop = true;
      return n;
    });
    while (!stop) {
      count++;
      socket.emit("up", index, count);
      await sleep(UP_MS);
    }
    const n = await last;
    s.last = Math.max(s.last, n);
    if (previous !== n) s.tail_missing++; // "stop" follows the last number on the same socket
    const transport = socket.io.engine.transport.name;
    if (transport === "websocket") s.upgraded++;
    s.sent_up += count;
    await socket.timeout(60000).emitWithAck("done", index, count, transport);
    socket.disconnect();
  }
  const clients = [];
  for (let i = FIRST; i < FIRST + COUNT; i++) clients.push(client(i));
  const timer = setInterval(() => progress(s), 10000);
  await Promise.all(clients);
  clearInterval(timer);
  return s;
}

async function shutdown() {
  const s = (current = { clients: 0, connect_errors: 0, disconnected: 0, acks_failed: 0, acks_answered: 0, reasons: {} });
  const sockets = [];
  const acks = [];
  let resolveGone;
  const gone = new Promise((resolve) => (resolveGone = resolve));
  async function join(index) {
    const socket = open(index % 5 === 0 ? ["polling"] : ["websocket"]);
    sockets.push(socket);
    socket.on("disconnect", (reason) => {
      s.reasons[reason] = (s.reasons[reason] || 0) + 1;
      s.disconnected++;
      if (s.disconnected === COUNT) resolveGone();
    });
    try {
      await connected(socket);
    } catch (err) {
      s.connect_errors++;
      return;
    }
    s.clients++;
    for (let n = 0; n < 3; n++) {
      acks.push(
        socket
          .timeout(120000)
          .emitWithAck("slow", n)
          .then(
            () => s.acks_answered++,
            () => s.acks_failed++,
          ),
      );
    }
  }
  const joins = [];
  for (let i = FIRST; i < FIRST + COUNT; i++) joins.push(join(i));
  await Promise.all(joins);
  process.stdout.write("ready\n");
  await Promise.race([gone, sleep(SECONDS * 1000)]);
  s.all_disconnected_s = elapsed();
  await Promise.race([Promise.all(acks), sleep(2000)]);
  for (const socket of sockets) socket.close();
  return s;
}

function finish(figures) {
  figures.wall_s = elapsed();
  const cpu = process.cpuUsage();
  figures.cpu_s = (cpu.user + cpu.system) / 1e6;
  if (latencies.length) {
    figures.ack_ms_p50 = percentile(latencies, 0.5);
    figures.ack_ms_p99 = percentile(latencies, 0.99);
  }
  process.stdout.write(JSON.stringify(figures) + "\n");
  process.exit(0);
}

process.on("SIGTERM", () => {
  // stopped before the end (the run overran its budget): the figures so far, marked so
  const figures = current || {};
  figures.interrupted = 1;
  finish(figures);
});

const modes = { churn, upgrade, shutdown };
modes[mode]().then(
  finish,
  (err) => {
    process.stderr.write(`loadgen failed: ${err && err.stack}\n`);
    process.exit(2);
  },
);
