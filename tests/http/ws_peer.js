// npm `ws` as the peer of siox.http's WebSocket codec (driven by test_ws_interop.py).
//
//   node ws_peer.js server <deflate>        echo server; prints {"port": N} first
//   node ws_peer.js client <url> <deflate>  runs the exchange below; prints one JSON result
//
// <deflate> is "0" (no permessage-deflate) or the JSON of ws's perMessageDeflate options.
//
// Echo rule (both roles): a message is sent back with the same type; a text message starting
// with "frag:" comes back split into three fragments.
"use strict";
const WebSocket = require("ws");

const [mode, ...args] = process.argv.slice(2);
const deflateOption = (arg) => (arg === "0" ? false : JSON.parse(arg));

function fragmentedSend(ws, data, binary) {
  const third = Math.ceil(data.length / 3);
  const compress = true;
  ws.send(data.subarray(0, third), { binary, fin: false, compress });
  ws.send(data.subarray(third, 2 * third), { binary, fin: false, compress });
  ws.send(data.subarray(2 * third), { binary, fin: true, compress });
}

function echo(ws, data, isBinary) {
  if (!isBinary && data.subarray(0, 5).toString() === "frag:") {
    fragmentedSend(ws, data, false);
  } else {
    ws.send(data, { binary: isBinary });
  }
}

if (mode === "server") {
  const wss = new WebSocket.WebSocketServer(
    { port: 0, host: "127.0.0.1", perMessageDeflate: deflateOption(args[0]) },
    () => console.log(JSON.stringify({ port: wss.address().port })),
  );
  wss.on("connection", (ws, req) => {
    ws.on("message", (data, isBinary) => echo(ws, data, isBinary));
    ws.on("ping", (data) => ws.send("pinged:" + data.toString()));
    ws.on("close", (code, reason) =>
      console.log(JSON.stringify({ closed: code, reason: reason.toString(),
                                   extensions: req.headers["sec-websocket-extensions"] || null })));
  });
} else if (mode === "client") {
  const [url, deflateArg] = args;
  const ws = new WebSocket(url, { perMessageDeflate: deflateOption(deflateArg) });
  const big = "x".repeat(300000) + "é".repeat(50000);
  const binary = Buffer.alloc(200000);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 7) & 0xff;
  const sent = [
    ["text", "hello"],
    ["text", "ünïcödé ✓ 😀"],
    ["binary", Buffer.from([0, 1, 2, 255])],
    ["text", big],
    ["binary", binary],
    ["fragmented", "frag:" + "abc😀".repeat(1000)],
  ];
  const received = [];
  const result = { ok: true, errors: [], extensions: null };
  ws.on("upgrade", (res) => {
    result.extensions = res.headers["sec-websocket-extensions"] || null;
  });
  ws.on("open", () => {
    for (const [kind, data] of sent) {
      if (kind === "fragmented") fragmentedSend(ws, Buffer.from(data), false);
      else ws.send(data, { binary: kind === "binary" });
    }
  });
  ws.on("message", (data, isBinary) => {
    received.push([isBinary, data]);
    if (received.length === sent.length) {
      sent.forEach(([kind, data], i) => {
        const [gotBinary, got] = received[i];
        const expected = Buffer.isBuffer(data) ? data : Buffer.from(data);
        if (gotBinary !== (kind === "binary") || !got.equals(expected)) {
          result.ok = false;
          result.errors.push(`message ${i} (${kind}) differs`);
        }
      });
      ws.ping(Buffer.from("are you there"));
    }
  });
  ws.on("pong", (data) => {
    result.pong = data.toString();
    ws.close(4000, "done ✓");
  });
  ws.on("close", (code, reason) => {
    result.closeCode = code;
    result.closeReason = reason.toString();
    console.log(JSON.stringify(result));
    process.exit(0);
  });
  ws.on("error", (err) => {
    result.ok = false;
    result.errors.push(String(err));
  });
} else {
  console.error("usage: ws_peer.js server|client ...");
  process.exit(2);
}
