// The real socket.io-client@4 against a siox server behind an ASGI server.
//
//   node sio_client.js '{"url": "http://127.0.0.1:PORT", "path": "/rt/socket.io"}'
//
// Runs one scenario per transport mode (websocket-only, polling-only, polling -> websocket
// upgrade), concurrently, each with two clients in a room named after the mode: echo with an
// ack, binary both ways, a broadcast to the room, a flood of ordered messages, a server-side
// disconnect of one client and a client-side disconnect of the other. Prints one JSON document
// on stdout; Buffers are written as {"$bytes": [...]}.
"use strict";

const { io } = require("socket.io-client");

const config = JSON.parse(process.argv[2]);
const TIMEOUT = 10000;

const MODES = {
  websocket: { transports: ["websocket"] },
  polling: { transports: ["polling"] },
  upgrade: { transports: ["polling", "websocket"], upgrade: true },
};

function plain(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer) {
    return { $bytes: [...Buffer.from(value)] };
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function within(promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), TIMEOUT);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function connect(mode) {
  return within(
    new Promise((resolve, reject) => {
      const socket = io(config.url, {
        path: config.path,
        forceNew: true,
        reconnection: false,
        auth: { room: mode },
        ...MODES[mode],
      });
      socket.once("connect", () => resolve(socket));
      socket.once("connect_error", reject);
    }),
    `${mode} connect`,
  );
}

function ack(socket, event, ...args) {
  return within(
    new Promise((resolve, reject) => {
      socket.timeout(TIMEOUT).emit(event, ...args, (err, ...reply) => {
        if (err) reject(err);
        else resolve(reply);
      });
    }),
    `ack of ${event}`,
  );
}

function once(socket, event) {
  return within(new Promise((resolve) => socket.once(event, (...args) => resolve(args))), event);
}

function upgraded(socket) {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return Promise.resolve();
  return within(new Promise((resolve) => engine.once("upgrade", () => resolve())), "upgrade");
}

async function scenario(mode) {
  const a = await connect(mode);
  const b = await connect(mode);
  const result = { mode };
  if (mode === "upgrade") await Promise.all([upgraded(a), upgraded(b)]);
  result.transports = [a.io.engine.transport.name, b.io.engine.transport.name];

  result.echo = await ack(a, "echo", "héllo ☃", { n: 1, list: [1, "two", null, true] });
  result.binary = plain(
    await ack(b, "echo", Buffer.from([0, 1, 2, 255]), { nested: Buffer.from("xyz") }),
  );

  const news = [once(a, "news"), once(b, "news")];
  await ack(a, "shout", `hello ${mode}`);
  result.news = await Promise.all(news);

  const count = 300;
  const seen = [];
  const flooded = new Promise((resolve) => {
    a.on("flood", (index, text) => {
      seen.push([index, text.length]);
      if (seen.length === count) resolve();
    });
  });
  result.flood_ack = await ack(a, "flood", count, 2000);
  await within(flooded, "flood");
  result.flood_in_order = seen.every(([index, length], i) => index === i && length === 2000);

  const kicked = once(b, "disconnect");
  b.emit("kick");
  result.kicked = await kicked;

  const left = once(a, "disconnect");
  a.disconnect();
  result.left = await left;
  return result;
}

(async () => {
  const results = await Promise.all(Object.keys(MODES).map(scenario));
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
})().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
