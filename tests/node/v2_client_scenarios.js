// Scenarios run by the real socket.io-client 2.5.0 (npm, installed as socket.io-client-v2:
// Engine.IO v3, Socket.IO protocol 4) against a server with allowEIO3, normally the siox app of
// tests/legacy/app.py (the events used are listed at the top of that file).
//
// Usage: node v2_client_scenarios.js <scenario> <url> [transports]
//   scenario "main":   one 2.x client (transports "polling", "websocket" or "upgrade"):
//                      ids, echo acks (text, astral characters, binary), a server -> client
//                      ack, a binary event, namespaces with a ?query, a namespace refused by a
//                      middleware (with data, and with falsy data), an unknown namespace.
//   scenario "jsonp":  the same client forced onto JSONP polling (forceJSONP) through a
//                      minimal DOM stand-in: <script> tags become GETs run with vm, the hidden
//                      form becomes a form-encoded POST.
//   scenario "mixed":  a 2.x and a 4.x client (socket.io-client 4.8.4) in one room: each
//                      shouts, both hear both (text and binary), and a broadcast with acks
//                      collects both replies.
// A scenario observes and reports; the assertions live in tests/legacy/test_v2_client.py.
// Output: one JSON line {"result": {...}} (exit 0) or {"error": "...", "recorded": {...}}
// (exit 1). Bytes are written as {"$bin": base64}. Every wait has its own timeout and the
// whole scenario is bounded by SCENARIO_TIMEOUT_MS.
"use strict";

const http = require("http");
const vm = require("vm");
const ioV2 = require("socket.io-client-v2");
const { io: ioV4 } = require("socket.io-client");

const SCENARIO_TIMEOUT_MS = 20000;
const WAIT_MS = 5000;
const recorded = {};

function isBinary(value) {
  return Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function tag(value) {
  if (isBinary(value)) {
    const buffer = Buffer.isBuffer(value)
      ? value
      : value instanceof ArrayBuffer
        ? Buffer.from(value)
        : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return { $bin: buffer.toString("base64") };
  }
  if (Array.isArray(value)) {
    return value.map(tag);
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tag(v)]));
  }
  return value === undefined ? null : value;
}

function print(obj) {
  process.stdout.write(JSON.stringify(tag(obj)) + "\n");
}

// Resolves with the event's arguments the next time it fires on `emitter`.
function once(emitter, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

// Emits with an ack callback; resolves with the ack's arguments.
function call(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for "${event}"`)), WAIT_MS);
    socket.emit(event, ...args, (...reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

const TEXT_ARGS = ["héllo ☃", "astral 😀𝄞 end", { n: 1, list: [1, "two", null, true] }];
const BINARY_ARGS = [Buffer.from([0, 1, 2, 255]), { nested: Buffer.from("xyz") }];

function transportsOf(mode) {
  return mode === "polling" ? ["polling"] : mode === "websocket" ? ["websocket"] : ["polling", "websocket"];
}

// The exchanges every 2.x client scenario runs on its main socket.
async function exchanges(socket, result) {
  result.id = socket.id;
  result.engine_id = socket.io.engine.id;
  result.echo = await call(socket, "echo", ...TEXT_ARGS);
  result.binary_echo = await call(socket, "echo", ...BINARY_ARGS);
  socket.on("question", (...args) => {
    const ack = args.pop();
    result.question = args;
    ack("answer", Buffer.from([9, 8]));
  });
  result.ask = await call(socket, "ask", "question", "q1", Buffer.from([1]));
  const bin = once(socket, "bin");
  socket.emit("send-binary");
  result.bin = await bin;
  result.whoami = (await call(socket, "whoami"))[0];
}

async function namespaces(manager, result) {
  const chat = manager.socket("/chat", { query: { room: "blue", token: "t 1&2" } });
  await once(chat, "connect");
  result.chat_id = chat.id;
  result.chat_whoami = (await call(chat, "whoami"))[0];

  const refused = manager.socket("/private", { query: { token: "wrong" } });
  result.private_error = (await once(refused, "error"))[0];
  const plain = manager.socket("/private-plain");
  result.private_plain_error = (await once(plain, "error"))[0];
  const unknown = manager.socket("/nope");
  result.unknown_error = (await once(unknown, "error"))[0];
  const dynamic = manager.socket("/dyn-42");
  await once(dynamic, "connect");
  result.dynamic_whoami = (await call(dynamic, "whoami"))[0];
}

async function main(url, mode) {
  const socket = ioV2(url, {
    transports: transportsOf(mode),
    forceNew: true,
    reconnection: false,
    query: { token: "abc" },
  });
  const result = (recorded.main = { mode });
  result.first_transport = socket.io.engine.transport.name; // the engine opens at once
  const upgraded = mode === "upgrade" ? once(socket.io.engine, "upgrade") : null;
  await once(socket, "connect");
  if (upgraded) {
    await upgraded;
  }
  await exchanges(socket, result);
  await namespaces(socket.io, result);
  result.final_transport = socket.io.engine.transport.name;
  socket.close();
  return result;
}

// --- JSONP: a DOM stand-in just large enough for engine.io-client 3.x's JSONPPolling ---------

function installDom(seen) {
  function element(tagName) {
    const el = {
      tagName,
      children: [],
      parentNode: null,
      style: {},
      setAttribute() {},
      appendChild(child) {
        child.parentNode = this;
        this.children.push(child);
        if (child.tagName === "script") {
          loadScript(child);
        }
        return child;
      },
      insertBefore(child) {
        return this.appendChild(child);
      },
      removeChild(child) {
        this.children = this.children.filter((c) => c !== child);
        child.parentNode = null;
        return child;
      },
    };
    if (tagName === "form") {
      el.submit = () => submitForm(el);
    }
    return el;
  }

  function loadScript(script) {
    http
      .get(script.src, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => {
          seen.scripts.push({ status: res.statusCode, type: res.headers["content-type"], text });
          if (res.statusCode !== 200) {
            script.onerror(new Error(`script status ${res.statusCode}`));
            return;
          }
          vm.runInThisContext(text); // calls ___eio[j]("...")
        });
      })
      .on("error", (err) => script.onerror(err));
  }

  function submitForm(form) {
    const area = form.children.find((c) => c.tagName === "textarea");
    const body = area.name + "=" + encodeURIComponent(area.value).replace(/%20/g, "+");
    seen.forms.push(area.value);
    const req = http.request(
      form.action,
      {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "Content-Length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          const iframe = form.children.find((c) => c.tagName === "iframe");
          if (iframe && iframe.onload) {
            iframe.onload();
          }
        });
      },
    );
    req.on("error", () => {});
    req.end(body);
  }

  const body = element("body");
  globalThis.document = {
    body,
    head: element("head"),
    createElement(name) {
      if (name.startsWith("<")) {
        throw new Error("not old IE"); // the client then creates the iframe the standard way
      }
      return element(name);
    },
    getElementsByTagName() {
      return [];
    },
  };
}

async function jsonp(url) {
  const seen = { scripts: [], forms: [] };
  installDom(seen);
  const socket = ioV2(url, {
    transports: ["polling"],
    forceJSONP: true,
    forceNew: true,
    reconnection: false,
    query: { token: "abc" },
  });
  const result = (recorded.jsonp = {});
  recorded.jsonp_seen = seen;
  await once(socket, "connect");
  result.transport_kind = socket.io.engine.transport.constructor.name;
  result.j = socket.io.engine.transport.query.j;
  await exchanges(socket, result);
  const tricky = ["line1\nline2", "back\\nslash \\\\n", "\u2028sep\u2029", '</script><b>&amp;"'];
  result.tricky_echo = await call(socket, "echo", ...tricky);
  socket.close();
  result.scripts = seen.scripts.map(({ status, type, text }) => ({
    status,
    type,
    head: text.slice(0, 9),
    ascii: /^[\x20-\x7e]*$/.test(text),
  }));
  result.forms = seen.forms;
  return result;
}

// --- a 2.x and a 4.x client in one room -------------------------------------------------------

async function mixed(url) {
  const options = { forceNew: true, reconnection: false };
  const old = ioV2(url, options);
  const young = ioV4(url, options);
  const result = (recorded.mixed = { v2: { news: [] }, v4: { news: [] } });
  await Promise.all([once(old, "connect"), once(young, "connect")]);
  for (const [name, socket] of [["v2", old], ["v4", young]]) {
    result[name].id = socket.id;
    result[name].join = await call(socket, "join", "room1");
    socket.on("news", (...args) => result[name].news.push(args));
    socket.on("question", (room, ack) => ack(`${name} in ${room}`));
  }
  const heard = () => result.v2.news.length + result.v4.news.length;
  const settle = async (count) => {
    const deadline = Date.now() + WAIT_MS;
    while (heard() < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await call(old, "shout", "room1", "from v2", Buffer.from([1, 2]));
  await settle(2);
  await call(young, "shout", "room1", "from v4", { x: Buffer.from([3]) });
  await settle(4);
  result.ask_room = (await call(young, "ask-room", "room1"))[0];
  old.close();
  young.close();
  return result;
}

const SCENARIOS = { main, jsonp, mixed };

async function run() {
  const [scenario, url, mode = "upgrade"] = process.argv.slice(2);
  const body = SCENARIOS[scenario];
  if (!body || !url) {
    throw new Error("usage: v2_client_scenarios.js main|jsonp|mixed <url> [transports]");
  }
  const timer = setTimeout(() => {
    print({ error: `scenario ${scenario} timed out`, recorded });
    process.exit(1);
  }, SCENARIO_TIMEOUT_MS);
  const result = await body(url, mode);
  clearTimeout(timer);
  print({ result });
  process.exit(0);
}

run().catch((err) => {
  print({ error: String(err && err.stack ? err.stack : err), recorded });
  process.exit(1);
});
