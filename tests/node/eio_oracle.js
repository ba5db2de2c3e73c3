// A long-lived oracle for siox's Engine.IO codec tests: the npm engine.io-parser 5.2.3 (EIO 4)
// and 2.2.1 (EIO 3, installed as engine.io-parser-v2) behind a JSON-lines protocol.
//
// One request per stdin line, one answer per stdout line, in order:
//   {"id": 1, "op": "encodePacket",  "eio": 4, "packet": P, "supportsBinary": true}  -> {"id": 1, "frame": F}
//   {"id": 2, "op": "decodePacket",  "eio": 4, "frame": F}                          -> {"id": 2, "packet": P}
//   {"id": 3, "op": "encodePayload", "eio": 3, "packets": [P], "supportsBinary": true} -> {"id": 3, "body": F}
//   {"id": 4, "op": "decodePayload", "eio": 3, "body": F}      -> {"id": 4, "packets": [P], "error": false}
// where F (a frame or a body) is a string or {"bin": "<base64>"} for bytes, and
// P is {"type": "message", "data": F} ("data" absent when the packet has none; "type" is null
// when npm produced an undefined type). "error" is true when npm reported a parser error (the
// error packet is then not included in "packets"). A failure answers {"id": n, "exception": "..."}.
"use strict";

const readline = require("readline");
const v4 = require("engine.io-parser");
const v3 = require("engine.io-parser-v2");

function fromWire(value) {
  if (value !== null && typeof value === "object") {
    return Buffer.from(value.bin, "base64");
  }
  return value;
}

function toWire(value) {
  if (typeof value === "string") {
    return value;
  }
  if (value instanceof ArrayBuffer) {
    return { bin: Buffer.from(value).toString("base64") };
  }
  return { bin: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
}

function packetFromWire(p) {
  const packet = { type: p.type };
  if (p.data !== undefined) {
    packet.data = fromWire(p.data);
  }
  return packet;
}

function packetToWire(p) {
  const out = { type: p.type === undefined ? null : p.type };
  if (p.data !== undefined) {
    out.data = toWire(p.data);
  }
  return out;
}

function isError(p) {
  return p.type === "error";
}

const handlers = {
  encodePacket(req) {
    let frame;
    const packet = packetFromWire(req.packet);
    if (req.eio === 3) {
      v3.encodePacket(packet, req.supportsBinary, false, (f) => { frame = f; });
    } else {
      v4.encodePacket(packet, req.supportsBinary, (f) => { frame = f; });
    }
    return { frame: toWire(frame) };
  },
  decodePacket(req) {
    const frame = fromWire(req.frame);
    const packet = req.eio === 3 ? v3.decodePacket(frame, undefined, false) : v4.decodePacket(frame);
    if (isError(packet)) {
      return { error: true };
    }
    return { error: false, packet: packetToWire(packet) };
  },
  encodePayload(req) {
    let body;
    const packets = req.packets.map(packetFromWire);
    if (req.eio === 3) {
      v3.encodePayload(packets, req.supportsBinary, (b) => { body = b; });
    } else {
      v4.encodePayload(packets, (b) => { body = b; });
    }
    // npm 5.x never calls back for an empty list: report that as null.
    return { body: body === undefined ? null : toWire(body) };
  },
  decodePayload(req) {
    const body = fromWire(req.body);
    const packets = [];
    let error = false;
    if (req.eio === 3) {
      v3.decodePayload(body, (packet) => {
        if (isError(packet)) {
          error = true;
        } else {
          packets.push(packetToWire(packet));
        }
      });
    } else {
      for (const packet of v4.decodePayload(body)) {
        if (isError(packet)) {
          error = true;
        } else {
          packets.push(packetToWire(packet));
        }
      }
    }
    return { packets, error };
  },
};

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  let id = null;
  let answer;
  try {
    const req = JSON.parse(line);
    id = req.id;
    answer = handlers[req.op](req);
  } catch (e) {
    answer = { exception: String((e && e.stack) || e) };
  }
  answer.id = id;
  process.stdout.write(JSON.stringify(answer) + "\n");
});
rl.on("close", () => process.exit(0));
