// socket.io-client@4 continuing a trace on a siox server traced with sio.instrument_tracing()
// (tests/otel/test_tracing_node.py). No OpenTelemetry package: the W3C carrier is written by
// hand, as propagation.inject would write it into a plain object.
//
// Usage: node otel_client.js <url> <traceparent for auth> <traceparent for the event>
// Connects with auth {token, traceparent, tracestate}, emits "order" with a payload and a
// carrier as last argument, and prints one line {"result": {id, ack}} or {"error": ...};
// bounded by SCENARIO_TIMEOUT_MS.
"use strict";

const { io } = require("socket.io-client");

const SCENARIO_TIMEOUT_MS = 20000;

async function main() {
  const [url, authParent, eventParent] = process.argv.slice(2);
  const socket = io(url, {
    forceNew: true,
    reconnection: false,
    auth: { token: "secret", traceparent: authParent, tracestate: "node=1" },
  });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  const ack = await socket
    .timeout(5000)
    .emitWithAck("order", { id: 7 }, { traceparent: eventParent });
  const id = socket.id;
  socket.close();
  return { id, ack };
}

const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: "timeout" }));
  process.exit(1);
}, SCENARIO_TIMEOUT_MS);

main().then(
  (result) => {
    clearTimeout(timer);
    console.log(JSON.stringify({ result }));
  },
  (error) => {
    clearTimeout(timer);
    console.log(JSON.stringify({ error: String(error) }));
    process.exit(1);
  },
);
