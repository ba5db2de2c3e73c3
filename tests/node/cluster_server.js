// A Node socket.io 4.8 cluster node on @socket.io/redis-adapter 8.3 (classic or sharded) or
// @socket.io/redis-streams-adapter 0.3: the twin of tests/cluster/cluster_app.py (same command
// line, same "ctl" operations, same server-side events), so the mixed-cluster tests drive both
// kinds of node alike.
//
//   node cluster_server.js --port P --redis URL --key KEY --name NAME [--requests-timeout S]
//       [--adapter classic|sharded|sharded-static|sharded-private|streams|streams-sharded] [--recovery]
"use strict";

const { createServer } = require("node:http");
const { Server } = require("socket.io");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
const streams = require("@socket.io/redis-streams-adapter");
const { createClient } = require("redis");

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const port = Number(option("port"));
const name = option("name");
const key = option("key");
const requestsTimeout = Math.round(Number(option("requests-timeout", "2")) * 1000);
const kind = option("adapter", "classic");
const recovery = process.argv.includes("--recovery");

function makeAdapter(pub, sub) {
  if (kind === "classic") return createAdapter(pub, sub, { key, requestsTimeout });
  if (kind === "streams") return streams.createAdapter(pub, { streamName: key, channelPrefix: key });
  if (kind === "streams-sharded") {
    return streams.createAdapter(pub, {
      streamName: key,
      channelPrefix: key,
      streamCount: 3,
      useShardedPubSub: true,
    });
  }
  const subscriptionMode = { sharded: "dynamic", "sharded-static": "static", "sharded-private": "dynamic-private" }[kind];
  return createShardedAdapter(pub, sub, { channelPrefix: key, subscriptionMode });
}

function describe(socket) {
  return {
    id: socket.id,
    rooms: [...socket.rooms].sort(),
    data: socket.data || {},
    address: socket.handshake.address,
    remote: socket.constructor.name === "RemoteSocket",
  };
}

function operator(io, spec) {
  let op = io.to(spec.rooms || []).except(spec.except || []);
  if (spec.local) op = op.local;
  if (spec.volatile) op = op.volatile;
  if (spec.timeout !== undefined && spec.timeout !== null) op = op.timeout(spec.timeout * 1000);
  return op;
}

async function main() {
  const pub = createClient({ url: option("redis") });
  const sub = pub.duplicate();
  pub.on("error", (err) => console.error("redis pub error", err));
  sub.on("error", (err) => console.error("redis sub error", err));
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = createServer();
  const io = new Server(httpServer, {
    adapter: makeAdapter(pub, sub),
    connectionStateRecovery: recovery ? { maxDisconnectionDuration: 120000 } : undefined,
    pingInterval: 5000,
    pingTimeout: 5000,
  });
  const seen = [];
  io.on("ping", (x, callback) => {
    seen.push(["ping", x]);
    if (typeof callback === "function") callback(`pong:${name}:${x}`);
  });
  io.on("note", (...args) => {
    if (typeof args[args.length - 1] === "function") args.pop();
    seen.push(["note", ...args]);
  });
  io.on("connection", (socket) => {
    socket.on("ctl", async (spec, reply) => {
      try {
        reply(await control(io, socket, spec, seen));
      } catch (err) {
        reply({ error: String(err) });
      }
    });
  });
  // Let the adapter's subscriptions reach Redis before listening (the streams adapter's first
  // XREAD, from "$", runs on a client it connects first: give it longer).
  await new Promise((resolve) => setTimeout(resolve, kind.startsWith("streams") ? 600 : 200));
  httpServer.listen(port, "127.0.0.1");
  const stop = () => {
    io.close();
    Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

async function control(io, socket, spec, seen) {
  switch (spec.op) {
    case "count":
      return await io.of("/").adapter.serverCount();
    case "name":
      return name;
    case "join":
      socket.join(spec.room);
      return [...socket.rooms].sort();
    case "set_data":
      socket.data = Object.assign(socket.data || {}, spec.data);
      return null;
    case "emit":
      operator(io, spec).emit(spec.event, ...(spec.args || []));
      return null;
    case "burst": {
      const broadcast = operator(io, spec);
      for (let i = 0; i < spec.count; i++) broadcast.emit(spec.event, ...(spec.args || []));
      return spec.count;
    }
    case "numbered": // as cluster_app.py: `count` events numbered from 0, one per millisecond or so
      for (let i = 0; i < spec.count; i++) {
        io.emit(spec.event, i);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return spec.count;
    case "emit_ack":
      return await new Promise((resolve) => {
        operator(io, spec).emit(spec.event, ...(spec.args || []), (err, replies) => {
          resolve({ replies: (replies || []).map(String).sort(), missing: err ? -1 : 0 });
        });
      });
    case "fetch": {
      const sockets = await operator(io, spec).fetchSockets();
      return sockets.map(describe).sort((a, b) => (a.id < b.id ? -1 : 1));
    }
    case "remote": {
      for (const target of await io.fetchSockets()) {
        if (target.id !== spec.id) continue;
        if (spec.action === "emit") target.emit(spec.event, ...(spec.args || []));
        else if (spec.action === "join") target.join(spec.room);
        else if (spec.action === "leave") target.leave(spec.room);
        else target.disconnect();
        return true;
      }
      return false;
    }
    case "join_all":
      operator(io, spec).socketsJoin(spec.room);
      return null;
    case "leave_all":
      operator(io, spec).socketsLeave(spec.room);
      return null;
    case "disconnect_all":
      operator(io, spec).disconnectSockets();
      return null;
    case "sse":
      io.serverSideEmit(spec.event, ...(spec.args || []));
      return null;
    case "sse_ack":
      return await new Promise((resolve) => {
        // the adapter's requestsTimeout bounds it (a BroadcastOperator has no serverSideEmit)
        io.serverSideEmit(spec.event, ...(spec.args || []), (err, replies) => {
          resolve({ replies: (replies || []).map(String).sort(), missing: err ? -1 : 0 });
        });
      });
    case "sse_seen":
      return seen;
    case "whoami":
      return { id: socket.id, rooms: [...socket.rooms].sort(), data: socket.data || {}, recovered: socket.recovered };
    case "drop":
      setTimeout(() => socket.conn.close(), 50);
      return null;
    default:
      throw new Error(`unknown op ${spec.op}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
