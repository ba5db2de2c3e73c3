// The load generator of bench/run.py: one case of one scenario against a running server.
//
//   node bench/loadgen/loadgen.js '<json config>'
//
// Config: {"scenario": "echo" | "binary" | "fanout" | "connect" | "polling", "port": P,
//   "serverPid": PID (its CPU time and RSS are read from /proc), "clkTck": 100,
//   "clients": C, "window": W, "payload": "small" | "1k", "bytes": B (binary),
//   "k": K, "rounds": R (fanout), "concurrency": N (handshakes in flight), "warmS": 1,
//   "measureS": 3, "timeoutS": 60}
// Prints one JSON line: the measures, or {"error": "..."} (exit status 1). Every loop is
// bounded by its count and by timeoutS; loopback only.
"use strict";

const fs = require("node:fs");
const { performance } = require("node:perf_hooks");
const { isDeepStrictEqual } = require("node:util");
const { WsClient, PollClient, clientFrame, readInt } = require("./proto");

const CONNECT_MS = 10000;
const DRAIN_MS = 5000;
const MAX_ROUNDS = 50;
const SMALL = ["hello", { id: 42, user: "ada", tags: ["a", "b"], ok: true }];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's CPU time (seconds) and resident memory (KiB), or nulls without a pid. */
function sampleServer(cfg) {
  if (!cfg.serverPid) return { cpu: null, rss: null };
  const stat = fs.readFileSync(`/proc/${cfg.serverPid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  const status = fs.readFileSync(`/proc/${cfg.serverPid}/status`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return { cpu: ticks / (cfg.clkTck || 100), rss };
}

/** [busy, total] jiffies of each CPU (/proc/stat): shows what else ran on the cores. */
function coreTimes() {
  const lines = fs.readFileSync("/proc/stat", "utf8").split("\n");
  return lines
    .filter((line) => /^cpu\d/.test(line))
    .map((line) => {
      const values = line.split(/\s+/).slice(1, 9).map(Number);
      const all = values.reduce((a, b) => a + b, 0);
      return [all - values[3] - values[4], all]; // less idle and iowait
    });
}

/** Percentile (0..100) of a sorted array, nearest rank. */
function percentile(sorted, p) {
  if (!sorted.length) return null;
  const rank = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, rank)];
}

/** A measure window: CPU of both sides and wall time between start() and stop(). */
class Window {
  constructor(cfg) {
    this.cfg = cfg;
  }

  elapsed() {
    return (performance.now() - this.t0) / 1000;
  }

  start() {
    this.cores0 = coreTimes();
    this.server0 = sampleServer(this.cfg);
    this.self0 = process.cpuUsage();
    this.t0 = performance.now();
  }

  stop() {
    this.seconds = (performance.now() - this.t0) / 1000;
    const server = sampleServer(this.cfg);
    const self = process.cpuUsage(this.self0);
    const pct = (cpu) => Math.round((1000 * cpu) / this.seconds) / 10;
    this.serverCpuS = server.cpu === null ? null : server.cpu - this.server0.cpu;
    this.serverCpuPct = server.cpu === null ? null : pct(this.serverCpuS);
    this.loadgenCpuPct = pct((self.user + self.system) / 1e6);
    const cores = coreTimes();
    this.coreBusyPct = cores.map(([busy, all], i) => {
      const [busy0, all0] = this.cores0[i] || [0, 0];
      return all > all0 ? Math.round((1000 * (busy - busy0)) / (all - all0)) / 10 : null;
    });
  }

  /** The server's CPU time per operation in the window, in microseconds. */
  perOp(ops) {
    return this.serverCpuS === null || !ops ? null : round3((this.serverCpuS * 1e6) / ops);
  }

  report() {
    return {
      measure_s: Math.round(this.seconds * 1000) / 1000,
      server_cpu_pct: this.serverCpuPct,
      loadgen_cpu_pct: this.loadgenCpuPct,
      core_busy_pct: this.coreBusyPct,
    };
  }
}

/** Request/answer loops: warm-up, measure, then drain (no new requests, wait for answers). */
class Loop {
  constructor(cfg) {
    this.cfg = cfg;
    this.sending = true;
    this.measuring = false;
    this.sent = 0;
    this.answered = 0;
    this.counted = 0;
    this.bad = 0;
    this.latencies = [];
    this.errors = [];
    this.window = new Window(cfg);
  }

  answer(latencyMs, good) {
    this.answered++;
    if (!good) this.bad++;
    if (this.measuring) {
      this.counted++;
      this.latencies.push(latencyMs);
    }
  }

  lost(err) {
    if (err && this.errors.length < 5) this.errors.push(String(err.message || err));
  }

  async run() {
    await sleep(this.cfg.warmS * 1000);
    this.window.start();
    this.measuring = true;
    await sleep(this.cfg.measureS * 1000);
    this.measuring = false;
    this.window.stop();
    this.sending = false;
    const deadline = performance.now() + DRAIN_MS;
    while (this.answered < this.sent && performance.now() < deadline && !this.errors.length) {
      await sleep(10);
    }
    this.latencies.sort((a, b) => a - b);
  }

  report(rate, unit) {
    return {
      throughput: Math.round(rate * 10) / 10,
      unit,
      p50_ms: round3(percentile(this.latencies, 50)),
      p99_ms: round3(percentile(this.latencies, 99)),
      server_cpu_us_per_op: this.window.perOp(this.counted),
      ...this.window.report(),
      sent: this.sent,
      answered: this.answered,
      missing: this.sent - this.answered,
      bad: this.bad,
      errors: this.errors,
    };
  }
}

function round3(value) {
  return value === null ? null : Math.round(value * 1000) / 1000;
}

/** Opens n clients, at most `concurrency` handshakes at once; also each one's time. */
async function openMany(n, concurrency, make) {
  const clients = new Array(n);
  const times = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const t0 = performance.now();
      clients[i] = await make().open(CONNECT_MS);
      times[i] = performance.now() - t0;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  } catch (err) {
    for (const client of clients) if (client) client.destroy();
    throw err;
  }
  return { clients, times };
}

/** Compares an answer's arguments to what was sent: the exact bytes, else the parsed JSON. */
function sameArgs(buf, start, end, expected, expectedValue) {
  if (end - start === expected.length && buf.compare(expected, 0, expected.length, start, end) === 0) {
    return true;
  }
  try {
    return isDeepStrictEqual(JSON.parse(buf.toString("utf8", start, end)), expectedValue);
  } catch {
    return false;
  }
}

async function echo(cfg) {
  const args = cfg.payload === "1k" ? ["x".repeat(1024)] : SMALL;
  const argsJson = JSON.stringify(args);
  const expected = Buffer.from(argsJson);
  const frames = [];
  for (let slot = 0; slot < cfg.window; slot++) {
    frames.push(clientFrame(1, `42${slot}["echo",${argsJson.slice(1)}`));
  }
  const { clients } = await openMany(cfg.clients, cfg.concurrency, () => new WsClient(cfg.port));
  const loop = new Loop(cfg);
  for (const client of clients) {
    const sentAt = new Float64Array(cfg.window);
    client.onClose = (err) => loop.lost(err || new Error("closed by the server"));
    client.onText = (buf, start, end) => {
      if (buf[start] !== 0x33) return; // not an ack
      const [id, at] = readInt(buf, start + 1, end);
      const now = performance.now();
      loop.answer(now - sentAt[id], sameArgs(buf, at, end, expected, args));
      if (loop.sending) {
        sentAt[id] = now;
        loop.sent++;
        client.send(frames[id]);
      }
    };
    for (let slot = 0; slot < cfg.window; slot++) {
      sentAt[slot] = performance.now();
      loop.sent++;
      client.send(frames[slot]);
    }
  }
  await loop.run();
  for (const client of clients) client.destroy();
  return loop.report(loop.counted / loop.window.seconds, "acks/s");
}

async function binary(cfg) {
  const attachment = Buffer.alloc(cfg.bytes);
  for (let i = 0; i < attachment.length; i++) attachment[i] = (i * 31 + 7) & 0xff;
  const placeholder = [{ _placeholder: true, num: 0 }];
  const expected = Buffer.from(JSON.stringify(placeholder));
  const frames = [];
  for (let slot = 0; slot < cfg.window; slot++) {
    const head = clientFrame(1, `451-${slot}["echo",{"_placeholder":true,"num":0}]`);
    frames.push(Buffer.concat([head, clientFrame(2, attachment)]));
  }
  const { clients } = await openMany(cfg.clients, cfg.concurrency, () => new WsClient(cfg.port));
  const loop = new Loop(cfg);
  for (const client of clients) {
    const sentAt = new Float64Array(cfg.window);
    let pending = -1; // the ack id whose attachment comes next
    let headerGood = false;
    client.onClose = (err) => loop.lost(err || new Error("closed by the server"));
    client.onText = (buf, start, end) => {
      if (buf[start] !== 0x36) return; // not a binary ack
      const [count, dash] = readInt(buf, start + 1, end);
      const [id, at] = readInt(buf, dash + 1, end);
      pending = id;
      headerGood = count === 1 && sameArgs(buf, at, end, expected, placeholder);
    };
    client.onBinary = (buf, start, end) => {
      if (pending < 0) return;
      const id = pending;
      pending = -1;
      const good =
        headerGood && end - start === attachment.length && buf.compare(attachment, 0, 64, start, start + 64) === 0;
      const now = performance.now();
      loop.answer(now - sentAt[id], good);
      if (loop.sending) {
        sentAt[id] = now;
        loop.sent++;
        client.send(frames[id]);
      }
    };
    for (let slot = 0; slot < cfg.window; slot++) {
      sentAt[slot] = performance.now();
      loop.sent++;
      client.send(frames[slot]);
    }
  }
  await loop.run();
  for (const client of clients) client.destroy();
  return loop.report((loop.counted * cfg.bytes) / 2 ** 20 / loop.window.seconds, "MiB/s");
}

async function polling(cfg) {
  const args = SMALL;
  const argsJson = JSON.stringify(args);
  const expected = Buffer.from(argsJson);
  const packets = [];
  for (let slot = 0; slot < cfg.window; slot++) packets.push(`42${slot}["echo",${argsJson.slice(1)}`);
  const { clients } = await openMany(cfg.clients, cfg.concurrency, () => new PollClient(cfg.port));
  const loop = new Loop(cfg);
  for (const client of clients) {
    const sentAt = new Float64Array(cfg.window);
    client.onClose = (err) => loop.lost(err || new Error("closed by the server"));
    client.onMessage = (payload) => {
      if (payload[0] !== "3") return;
      const buf = Buffer.from(payload);
      const [id, at] = readInt(buf, 1, buf.length);
      const now = performance.now();
      loop.answer(now - sentAt[id], sameArgs(buf, at, buf.length, expected, args));
      if (loop.sending) {
        sentAt[id] = now;
        loop.sent++;
        client.send(packets[id]);
      }
    };
    for (let slot = 0; slot < cfg.window; slot++) {
      sentAt[slot] = performance.now();
      loop.sent++;
      client.send(packets[slot]);
    }
  }
  await loop.run();
  for (const client of clients) client.destroy();
  return loop.report(loop.counted / loop.window.seconds, "acks/s");
}

async function fanout(cfg) {
  const payload = "m".repeat(64);
  const { clients } = await openMany(cfg.clients, cfg.concurrency, () => new WsClient(cfg.port));
  const n = clients.length;
  const counts = new Int32Array(n);
  const doneAt = new Float64Array(n);
  const mark = Buffer.from('2["m",');
  const errors = [];
  let t0 = 0;
  let finished = 0;
  let acked = false;
  let bad = 0;
  let wake = () => {};
  clients.forEach((client, i) => {
    client.onClose = (err) => {
      errors.push(String((err && err.message) || "closed by the server"));
      wake();
    };
    client.onText = (buf, start, end) => {
      if (buf[start] === 0x33 && i === 0) {
        acked = true;
        if (finished === n) wake();
        return;
      }
      if (buf.compare(mark, 0, mark.length, start, start + mark.length) !== 0) return;
      counts[i]++;
      if (counts[i] === cfg.k) {
        doneAt[i] = performance.now() - t0;
        finished++;
        if (finished === n && acked) wake();
      } else if (counts[i] > cfg.k) {
        bad++;
      }
    };
  });
  const trigger = clientFrame(1, `420["bcast","all",${cfg.k},${JSON.stringify(payload)}]`);
  const round = async () => {
    counts.fill(0);
    finished = 0;
    acked = false;
    const done = new Promise((resolve) => (wake = resolve));
    const timer = setTimeout(() => wake(), cfg.timeoutS * 500);
    t0 = performance.now();
    clients[0].send(trigger);
    await done;
    clearTimeout(timer);
    if (errors.length) throw new Error(errors[0]);
    if (finished < n || !acked) {
      throw new Error(`round incomplete: ${finished}/${n} clients got ${cfg.k} messages`);
    }
    return Math.max(...doneAt);
  };
  await round(); // warm-up, and every client has joined
  await sleep(100);
  const window = new Window(cfg);
  const lasts = [];
  const perClient = [];
  window.start();
  // at least `rounds` rounds and measureS seconds, at most MAX_ROUNDS rounds
  while (lasts.length < cfg.rounds || (window.elapsed() < cfg.measureS && lasts.length < MAX_ROUNDS)) {
    lasts.push(await round());
    perClient.push(...doneAt);
  }
  window.stop();
  for (const client of clients) client.destroy();
  lasts.sort((a, b) => a - b);
  perClient.sort((a, b) => a - b);
  const median = lasts[Math.floor(lasts.length / 2)];
  return {
    throughput: Math.round((n * cfg.k * 1000) / median),
    unit: "deliveries/s",
    p50_ms: round3(percentile(perClient, 50)),
    p99_ms: round3(percentile(perClient, 99)),
    last_ms: round3(median),
    server_cpu_us_per_op: window.perOp(n * cfg.k * lasts.length),
    ...window.report(),
    rounds: lasts.length,
    sent: lasts.length + 1,
    answered: lasts.length + 1,
    missing: 0,
    bad,
    errors: [],
  };
}

async function connect(cfg) {
  const make = () => new WsClient(cfg.port);
  const warm = await openMany(Math.min(50, cfg.clients), cfg.concurrency, make);
  for (const client of warm.clients) client.destroy();
  await sleep(500);
  const before = sampleServer(cfg);
  const window = new Window(cfg);
  window.start();
  const { clients, times } = await openMany(cfg.clients, cfg.concurrency, make);
  window.stop();
  let lost = 0;
  for (const client of clients) client.onClose = () => lost++;
  await sleep(1000);
  const after = sampleServer(cfg);
  for (const client of clients) client.destroy();
  times.sort((a, b) => a - b);
  const perConn = before.rss === null ? null : ((after.rss - before.rss) / clients.length);
  return {
    throughput: Math.round((clients.length / window.seconds) * 10) / 10,
    unit: "connects/s",
    p50_ms: round3(percentile(times, 50)),
    p99_ms: round3(percentile(times, 99)),
    server_cpu_us_per_op: window.perOp(clients.length),
    ...window.report(),
    rss_kib_per_conn: perConn === null ? null : Math.round(perConn * 10) / 10,
    sent: clients.length,
    answered: clients.length - lost,
    missing: lost,
    bad: 0,
    errors: [],
  };
}

const SCENARIOS = { echo, binary, polling, fanout, connect };

async function main() {
  const cfg = {
    clients: 1,
    window: 1,
    concurrency: 50,
    payload: "small",
    bytes: 65536,
    k: 10,
    rounds: 3,
    warmS: 1,
    measureS: 3,
    timeoutS: 60,
    clkTck: 100,
    ...JSON.parse(process.argv[2]),
  };
  const scenario = SCENARIOS[cfg.scenario];
  const timer = setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ error: `timed out after ${cfg.timeoutS} s` })}\n`);
    process.exit(1);
  }, cfg.timeoutS * 1000);
  try {
    if (!scenario) throw new Error(`no scenario ${cfg.scenario}`);
    const result = await scenario(cfg);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: String((err && err.stack) || err) })}\n`);
    process.exitCode = 1;
  } finally {
    clearTimeout(timer);
  }
  process.exit(); // sockets already destroyed; do not wait for stragglers
}

main();
