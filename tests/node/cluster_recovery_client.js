// socket.io-client 4.8 recovering its session on another node of a cluster (the streams
// adapter): connect to node A, join a room, receive one event, have A drop the connection,
// miss an event while away, and come back through node B (as a load balancer would send it).
// Prints one JSON line with what the client and node B saw.
//
//   node cluster_recovery_client.js URL_A URL_B
"use strict";

const { io } = require("socket.io-client");

const [urlA, urlB] = process.argv.slice(2);
const opts = { transports: ["websocket"], reconnectionDelay: 500, randomizationFactor: 0 };

function ctl(socket, spec) {
  return socket.timeout(5000).emitWithAck("ctl", spec);
}

function waitFor(socket, event) {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

async function main() {
  const helper = io(urlB, opts);
  await waitFor(helper, "connect");
  const socket = io(urlA, opts);
  await waitFor(socket, "connect");
  const firstId = socket.id;
  const received = [];
  socket.onAny((event, ...args) => received.push([event, ...args]));
  await ctl(socket, { op: "join", room: "r" });
  await ctl(socket, { op: "set_data", data: { k: 1 } });
  const before = waitFor(socket, "before");
  await ctl(helper, { op: "emit", rooms: ["r"], event: "before", args: [1] });
  await before;
  socket.io.uri = urlB; // the next connection goes to node B
  const gone = waitFor(socket, "disconnect");
  await ctl(socket, { op: "drop" });
  const [reason] = await gone;
  await ctl(helper, { op: "emit", rooms: ["r"], event: "missed", args: [2] });
  await ctl(helper, { op: "emit", rooms: ["elsewhere"], event: "not-mine", args: [3] });
  await waitFor(socket, "connect");
  await new Promise((resolve) => setTimeout(resolve, 300));
  const server = await ctl(socket, { op: "whoami" });
  console.log(JSON.stringify({
    reason,
    recovered: socket.recovered,
    sameId: socket.id === firstId,
    events: received.map((args) => [args[0], args[1]]),
    server,
  }));
  socket.close();
  helper.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
