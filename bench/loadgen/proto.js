// Engine.IO v4 / Socket.IO v5 clients for the load generator, on raw `net` sockets.
//
// WsClient speaks WebSocket (RFC 6455) itself: every frame it sends is built once by the
// caller (`clientFrame`) and masked with the all-zero key, which the RFC allows, so sending
// is one `write` of a ready Buffer; frames from the server are handed over in place
// (buffer, start, end) without copying. PollClient speaks HTTP/1.1 keep-alive long-polling
// over two connections (the pending GET and the POSTs). Both answer pings and report the
// packets they get to the handler the scenario installs.
"use strict";

const net = require("node:net");
const crypto = require("node:crypto");

const HOST = "127.0.0.1";
const EMPTY = Buffer.alloc(0);

/** A WebSocket frame from the client: FIN, `opcode`, masked with the zero key. */
function clientFrame(opcode, payload) {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const n = data.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.alloc(head + 4 + n); // the 4 mask bytes stay zero
  out[0] = 0x80 | opcode;
  if (n < 126) {
    out[1] = 0x80 | n;
  } else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  data.copy(out, head + 4);
  return out;
}

const PONG = clientFrame(1, "3");
const SIO_CONNECT = clientFrame(1, "40");

/** Reads a decimal number at buf[pos...]; returns [value, position after it]. */
function readInt(buf, pos, end) {
  let value = 0;
  let at = pos;
  while (at < end) {
    const c = buf[at];
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    at++;
  }
  return [value, at];
}

class WsClient {
  /**
   * onText(buf, start, end) gets each Engine.IO "4" (message) packet's payload after the "4";
   * onBinary(buf, start, end) each binary frame. Pings are answered here.
   */
  constructor(port) {
    this.port = port;
    this.onText = () => {};
    this.onBinary = () => {};
    this.onClose = () => {};
    this.onEngineOpen = () => {};
    this.closed = false;
    this.chunks = [];
    this.buffered = 0;
    this.need = 2;
  }

  /** Opens the WebSocket, the Engine.IO session and the Socket.IO connection to "/". */
  open(timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error("connect timed out")), timeoutMs);
      const fail = (err) => {
        clearTimeout(timer);
        this.destroy();
        reject(err);
      };
      const sock = net.connect({ host: HOST, port: this.port });
      this.sock = sock;
      sock.setNoDelay(true);
      sock.on("error", (err) => (this.connected ? this.close(err) : fail(err)));
      sock.on("close", () => (this.connected ? this.close(null) : fail(new Error("closed"))));
      const key = crypto.randomBytes(16).toString("base64");
      sock.write(
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${HOST}:${this.port}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      let head = EMPTY;
      const onHead = (chunk) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = head.subarray(0, head.indexOf("\r\n")).toString();
        if (!status.startsWith("HTTP/1.1 101")) {
          fail(new Error(`upgrade refused: ${status}`));
          return;
        }
        sock.removeListener("data", onHead);
        sock.on("data", (data) => this.feed(data));
        this.onText = (buf, start, end2) => {
          // "0" (open) comes first, then our "40" is answered by "40{...}" or "44{...}"
          if (buf[start] === 0x30) {
            clearTimeout(timer);
            this.connected = true;
            resolve(this);
          } else if (buf[start] === 0x34) {
            fail(new Error(`connect refused: ${buf.toString("utf8", start, end2)}`));
          }
        };
        this.onEngineOpen = () => sock.write(SIO_CONNECT);
        if (head.length > end + 4) this.feed(head.subarray(end + 4));
      };
      sock.on("data", onHead);
    });
  }

  send(frame) {
    if (!this.closed) this.sock.write(frame);
  }

  feed(data) {
    // gather chunks until the frame under way is whole, then parse every frame in them
    this.chunks.push(data);
    this.buffered += data.length;
    if (this.buffered < this.need) return;
    const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    this.need = 2;
    let pos = 0;
    const total = buf.length;
    this.sock.cork(); // whatever the handlers send for this read leaves in one write
    try {
      while (total - pos >= 2) {
        const b0 = buf[pos];
        let len = buf[pos + 1] & 0x7f;
        let head = 2;
        if (len === 126) {
          if (total - pos < 4) break;
          len = buf.readUInt16BE(pos + 2);
          head = 4;
        } else if (len === 127) {
          if (total - pos < 10) break;
          len = Number(buf.readBigUInt64BE(pos + 2));
          head = 10;
        }
        if (total - pos < head + len) {
          this.need = head + len;
          break;
        }
        this.frame(b0, buf, pos + head, pos + head + len);
        pos += head + len;
      }
    } finally {
      this.sock.uncork();
    }
    if (pos < total) {
      const rest = buf.subarray(pos);
      this.chunks.push(rest);
      this.buffered = rest.length;
    }
  }

  frame(b0, buf, start, end) {
    const opcode = b0 & 0x0f;
    if ((b0 & 0x80) === 0 || opcode === 0) {
      this.close(new Error("fragmented frames are not supported by the load generator"));
    } else if (opcode === 1) {
      const type = buf[start];
      if (type === 0x34) this.onText(buf, start + 1, end);
      else if (type === 0x32) this.send(PONG);
      else if (type === 0x30) this.onEngineOpen();
      else if (type === 0x31) this.close(new Error("server closed the session"));
    } else if (opcode === 2) {
      this.onBinary(buf, start, end);
    } else if (opcode === 8) {
      this.close(null);
    } else if (opcode === 9) {
      this.send(clientFrame(10, buf.subarray(start, end)));
    }
  }

  close(err) {
    if (this.closed) return;
    this.closed = true;
    this.destroy();
    this.onClose(err);
  }

  destroy() {
    this.closed = true;
    if (this.sock) this.sock.destroy();
  }
}

/** One keep-alive HTTP/1.1 connection, one request at a time (no pipelining). */
class HttpConn {
  constructor(port) {
    this.port = port;
    this.sock = net.connect({ host: HOST, port });
    this.sock.setNoDelay(true);
    this.buf = EMPTY;
    this.waiting = null;
    this.sock.on("data", (data) => this.feed(data));
    this.sock.on("error", (err) => this.fail(err));
    this.sock.on("close", () => this.fail(new Error("connection closed")));
  }

  request(method, path, body) {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      const length = body ? Buffer.byteLength(body) : 0;
      this.sock.write(
        `${method} ${path} HTTP/1.1\r\nHost: ${HOST}:${this.port}\r\n` +
          (body ? `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${length}\r\n` : "") +
          `\r\n${body || ""}`,
      );
    });
  }

  feed(data) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    const parsed = parseResponse(this.buf);
    if (parsed === null || this.waiting === null) return;
    this.buf = this.buf.subarray(parsed.used);
    const { resolve } = this.waiting;
    this.waiting = null;
    resolve(parsed);
  }

  fail(err) {
    if (this.waiting) {
      const { reject } = this.waiting;
      this.waiting = null;
      reject(err);
    }
  }

  destroy() {
    this.waiting = null;
    this.sock.destroy();
  }
}

/** A whole response at the start of `buf`: {status, body, used}, or null (not yet). */
function parseResponse(buf) {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const head = buf.toString("latin1", 0, headEnd).toLowerCase();
  const status = Number(head.slice(9, 12));
  let pos = headEnd + 4;
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) {
    const end = pos + Number(length[1]);
    return end > buf.length ? null : { status, body: buf.subarray(pos, end), used: end };
  }
  if (!/\r\ntransfer-encoding:\s*chunked/.test(head)) return { status, body: EMPTY, used: pos };
  const parts = [];
  for (;;) {
    const lineEnd = buf.indexOf("\r\n", pos);
    if (lineEnd < 0) return null;
    const size = parseInt(buf.toString("latin1", pos, lineEnd), 16);
    if (size === 0) {
      const end = buf.indexOf("\r\n", lineEnd + 2); // no trailers expected
      return end < 0 ? null : { status, body: Buffer.concat(parts), used: end + 2 };
    }
    if (lineEnd + 2 + size + 2 > buf.length) return null;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    pos = lineEnd + 2 + size + 2;
  }
}

class PollClient {
  /** onMessage(text) gets each Engine.IO "4" packet's payload after the "4". */
  constructor(port) {
    this.port = port;
    this.onMessage = () => {};
    this.onClose = () => {};
    this.closed = false;
    this.queue = [];
    this.posting = false;
  }

  async open(timeoutMs) {
    const timer = setTimeout(() => this.close(new Error("connect timed out")), timeoutMs);
    try {
      this.get = new HttpConn(this.port);
      this.post = new HttpConn(this.port);
      const hello = await this.get.request("GET", "/socket.io/?EIO=4&transport=polling");
      const text = hello.body.toString();
      if (hello.status !== 200 || text[0] !== "0") throw new Error(`handshake: ${text}`);
      this.path = `/socket.io/?EIO=4&transport=polling&sid=${JSON.parse(text.slice(1)).sid}`;
      const connected = new Promise((resolve, reject) => {
        this.onMessage = (payload) =>
          payload[0] === "0" ? resolve() : reject(new Error(`connect: ${payload}`));
        this.onClose = (err) => reject(err || new Error("closed while connecting"));
      });
      this.loop();
      this.send("40");
      await connected;
      this.onClose = () => {};
      return this;
    } finally {
      clearTimeout(timer);
    }
  }

  async loop() {
    while (!this.closed) {
      let answer;
      try {
        answer = await this.get.request("GET", this.path);
      } catch (err) {
        this.close(err);
        return;
      }
      if (answer.status !== 200) {
        this.close(new Error(`poll answered ${answer.status}`));
        return;
      }
      for (const packet of answer.body.toString().split("\x1e")) {
        const type = packet[0];
        if (type === "4") this.onMessage(packet.slice(1));
        else if (type === "2") this.send("3");
        else if (type === "1") this.close(new Error("server closed the session"));
      }
    }
  }

  /** Queues an Engine.IO packet; the queue leaves as one POST when none is under way. */
  send(packet) {
    this.queue.push(packet);
    if (!this.posting) this.flush();
  }

  async flush() {
    this.posting = true;
    while (this.queue.length && !this.closed) {
      const body = this.queue.join("\x1e");
      this.queue = [];
      try {
        const answer = await this.post.request("POST", this.path, body);
        if (answer.status !== 200) throw new Error(`POST answered ${answer.status}`);
      } catch (err) {
        this.close(err);
      }
    }
    this.posting = false;
  }

  close(err) {
    if (this.closed) return;
    this.closed = true;
    this.destroy();
    this.onClose(err);
  }

  destroy() {
    this.closed = true;
    if (this.get) this.get.destroy();
    if (this.post) this.post.destroy();
  }
}

module.exports = { WsClient, PollClient, clientFrame, readInt };
