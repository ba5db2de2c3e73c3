// Echo loop with npm socket.io-client against a running server; prints one JSON line.
//   node client_echo_node.js URL MESSAGES WINDOW TRANSPORT PAYLOAD_BYTES
// Sends MESSAGES "echo" events with an ack, at most WINDOW in flight, and reports the
// wall time and this process's CPU time (user + system) for the loop.
"use strict";
const path = require("path");
const { io } = require(path.join(__dirname, "..", "tests", "node", "node_modules", "socket.io-client"));

const [url, messages, window, transport, size] = process.argv.slice(2);
const total = Number(messages);
const inFlightMax = Number(window);
const payload = "x".repeat(Number(size));
const socket = io(url, { transports: transport === "upgrade" ? ["polling", "websocket"] : [transport] });

socket.on("connect", async () => {
  if (transport === "upgrade") {
    await new Promise((resolve) => {
      if (socket.io.engine.transport.name === "websocket") resolve();
      else socket.io.engine.once("upgrade", resolve);
    });
  }
  for (let i = 0; i < 200; i++) await socket.emitWithAck("echo", payload);  // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let sent = 0;
  let done = 0;
  await new Promise((resolve) => {
    const pump = () => {
      while (sent < total && sent - done < inFlightMax) {
        sent++;
        socket.emit("echo", payload, () => {
          done++;
          if (done === total) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ wall, cpu: (cpu.user + cpu.system) / 1e6 }) + "\n");
  socket.close();
  process.exit(0);
});
socket.on("connect_error", (err) => {
  process.stderr.write(`connect_error ${err.message}\n`);
  process.exit(1);
});
