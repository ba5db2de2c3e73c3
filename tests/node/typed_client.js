// socket.io-client 4.8.4 against the typed siox app of tests/typed/typed_app.py.
//
// Usage: node typed_client.js <url>
// Emits valid and invalid payloads (with and without acks, binary included) and prints one JSON
// line {"result": {...}} with the acks it got; the assertions live in tests/typed/test_node.py.
// Every wait is bounded: on a timeout it prints {"error": ...} and exits with status 1.
"use strict";

const { io } = require("socket.io-client");

const TIMEOUT_MS = 5000;

async function main() {
  const url = process.argv[2];
  const socket = io(url, { transports: ["websocket"], reconnection: false, timeout: TIMEOUT_MS });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  const ack = (...args) => socket.timeout(TIMEOUT_MS).emitWithAck(...args);
  const result = {
    valid: await ack("chat", { room: "lobby", text: "héllo", mood: "grumpy" }),
    invalid: await ack("chat", { room: "lobby", text: 42 }),
    unexpected: await ack("chat", { room: "a", text: "b" }, "extra"),
    mode: await ack("mode", "slow", 4, 5),
    upload: await ack("upload", "blob", Buffer.from([1, 2, 3, 4])),
    badUpload: await ack("upload", "blob", "not binary"),
  };
  socket.emit("chat", { room: "no ack", text: null }); // refused, nobody to answer
  result.afterNoAck = await ack("chat", { room: "after", text: "ok" });
  socket.disconnect();
  process.stdout.write(JSON.stringify({ result }) + "\n");
}

const guard = setTimeout(() => {
  process.stdout.write(JSON.stringify({ error: "timeout" }) + "\n");
  process.exit(1);
}, 4 * TIMEOUT_MS);

main()
  .then(() => clearTimeout(guard))
  .catch((err) => {
    process.stdout.write(JSON.stringify({ error: String(err) }) + "\n");
    process.exit(1);
  });
