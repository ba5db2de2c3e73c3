// A long-lived oracle for siox's Socket.IO parser tests: the npm socket.io-parser 4.2.7 (the
// default parser, protocol 5) and socket.io-msgpack-parser 3.0.2 behind a JSON-lines protocol.
//
// One request per stdin line, one answer per stdout line, in order. A line holds one request or
// {"batch": [request, ...]}, answered by {"batch": [answer, ...]}:
//   {"op": "encodeDefault", "packet": P}       -> {"items": [I, ...]}
//   {"op": "decodeDefault", "items": [I, ...]}  -> {"packets": [P, ...], "error": null | "msg",
//                                                   "pending": bool}
//   {"op": "encodeMsgpack", "packet": P}        -> {"bytes": "<base64>"}
//   {"op": "decodeMsgpack", "bytes": "<base64>"} -> {"packet": P} or {"error": "msg"}
// I (an Engine.IO message) is a string or {"$bin": "<base64>"}. P is {"type", "nsp", "data"?,
// "id"?} with the keys in that order except that absent keys are left out; the npm encoders get
// an object {type, data, nsp, id} built in that order (msgpack bytes depend on key order).
// "decodeDefault" feeds the items one by one to a fresh Decoder and reports every packet
// decoded before the first error; "pending" says a binary packet is still waiting for data.
// A request that throws unexpectedly answers {"exception": "msg"}.
//
// Values inside packet data are JSON, with these one-key objects as tags:
//   {"$bin": "<base64>"}  bytes (a Buffer going in; a Buffer, ArrayBuffer or view coming out)
//   {"$num": "NaN" | "Infinity" | "-Infinity" | "-0" | "<number>"}  numbers JSON cannot write,
//                         and (coming out) any number beyond 2**53, which Python reads as a float
//   {"$obj": {...}}       an object that would itself look like a tag (one key starting with $)
// and, going in only: {"$undef": true} for undefined, {"$date": <ms>} for a Date,
// {"$ab": "<base64>"} for an ArrayBuffer, {"$u8": "<base64>"} for a Uint8Array. Coming out,
// values JSON drops or rewrites are written as JSON.stringify would (undefined: left out of
// objects, null in arrays; a Date: its ISO string or null).
"use strict";

const readline = require("readline");
const defaultParser = require("socket.io-parser");
const msgpackParser = require("socket.io-msgpack-parser");

function setOwn(obj, key, value) {
  // Plain assignment would treat "__proto__" specially; JSON.parse makes it an own property.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isTagLike(obj) {
  const keys = Object.keys(obj);
  return keys.length === 1 && keys[0].startsWith("$");
}

function fromTagged(value) {
  if (Array.isArray(value)) {
    return value.map(fromTagged);
  }
  if (value === null || typeof value !== "object") {
    return value;
  }
  if (isTagLike(value)) {
    const [tag] = Object.keys(value);
    const arg = value[tag];
    switch (tag) {
      case "$bin":
        return Buffer.from(arg, "base64");
      case "$num":
        return Number(arg);
      case "$undef":
        return undefined;
      case "$date":
        return new Date(arg);
      case "$ab": {
        const buf = Buffer.from(arg, "base64");
        return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
      }
      case "$u8":
        return new Uint8Array(Buffer.from(arg, "base64"));
      case "$obj":
        return fromObject(arg);
      default:
        throw new Error("unknown tag " + tag);
    }
  }
  return fromObject(value);
}

function fromObject(value) {
  const out = {};
  for (const key of Object.keys(value)) {
    setOwn(out, key, fromTagged(value[key]));
  }
  return out;
}

function binaryBytes(value) {
  if (value instanceof ArrayBuffer) {
    return Buffer.from(value);
  }
  if (ArrayBuffer.isView(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return null;
}

function toTagged(value) {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $num: "NaN" };
    if (value === Infinity) return { $num: "Infinity" };
    if (value === -Infinity) return { $num: "-Infinity" };
    if (Object.is(value, -0)) return { $num: "-0" };
    // Python would read a long integer literal as an exact int; JavaScript holds a double.
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER) return { $num: String(value) };
    return value;
  }
  if (value === undefined || typeof value === "function") {
    return undefined;
  }
  if (value === null || typeof value !== "object") {
    return value;
  }
  const bytes = binaryBytes(value);
  if (bytes !== null) {
    return { $bin: bytes.toString("base64") };
  }
  if (Array.isArray(value)) {
    return value.map((item) => {
      const tagged = toTagged(item);
      return tagged === undefined ? null : tagged;
    });
  }
  if (typeof value.toJSON === "function") {
    return toTagged(value.toJSON());
  }
  const out = {};
  for (const key of Object.keys(value)) {
    const tagged = toTagged(value[key]);
    if (tagged !== undefined) {
      setOwn(out, key, tagged);
    }
  }
  return isTagLike(out) ? { $obj: out } : out;
}

function packetFromWire(p) {
  const packet = { type: p.type };
  if (p.data !== undefined) packet.data = fromTagged(p.data);
  if (p.nsp !== undefined) packet.nsp = p.nsp;
  if (p.id !== undefined) packet.id = p.id;
  return packet;
}

function packetToWire(p) {
  const out = { type: p.type === undefined ? null : p.type, nsp: p.nsp === undefined ? null : p.nsp };
  if (p.data !== undefined) out.data = toTagged(p.data);
  if (p.id !== undefined) out.id = toTagged(p.id);
  return out;
}

function itemFromWire(item) {
  return typeof item === "string" ? item : Buffer.from(item.$bin, "base64");
}

function itemToWire(item) {
  return typeof item === "string" ? item : { $bin: binaryBytes(item).toString("base64") };
}

const handlers = {
  encodeDefault(req) {
    const items = new defaultParser.Encoder().encode(packetFromWire(req.packet));
    return { items: items.map(itemToWire) };
  },
  decodeDefault(req) {
    const decoder = new defaultParser.Decoder();
    const packets = [];
    decoder.on("decoded", (p) => packets.push(packetToWire(p)));
    let error = null;
    try {
      for (const item of req.items) decoder.add(itemFromWire(item));
    } catch (e) {
      error = String(e && e.message);
    }
    return { packets, error, pending: Boolean(decoder.reconstructor) };
  },
  encodeMsgpack(req) {
    const [bytes] = new msgpackParser.Encoder().encode(packetFromWire(req.packet));
    return { bytes: bytes.toString("base64") };
  },
  decodeMsgpack(req) {
    const decoder = new msgpackParser.Decoder();
    let packet;
    decoder.on("decoded", (p) => { packet = p; });
    try {
      decoder.add(Buffer.from(req.bytes, "base64"));
    } catch (e) {
      return { error: String(e && e.message) };
    }
    return { packet: packetToWire(packet) };
  },
};

function answer(req) {
  try {
    const handler = Object.prototype.hasOwnProperty.call(handlers, req.op) ? handlers[req.op] : null;
    if (handler === null) throw new Error("unknown op " + req.op);
    return handler(req);
  } catch (e) {
    return { exception: String((e && e.stack) || e) };
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  let reply;
  try {
    const req = JSON.parse(line);
    reply = Array.isArray(req.batch) ? { batch: req.batch.map(answer) } : answer(req);
  } catch (e) {
    reply = { exception: "bad request line: " + String(e && e.message) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
rl.on("close", () => process.exit(0));
