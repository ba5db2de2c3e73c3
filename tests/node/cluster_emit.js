// One broadcast through the npm @socket.io/redis-emitter 5.1, then exit:
//   node cluster_emit.js URL KEY NSP ROOM|"" EVENT JSON_ARGS
"use strict";

const { Emitter } = require("@socket.io/redis-emitter");
const { createClient } = require("redis");

async function main() {
  const [url, key, nsp, room, event, args] = process.argv.slice(2);
  const client = createClient({ url });
  await client.connect();
  const emitter = new Emitter(client, { key }).of(nsp);
  const payload = JSON.parse(args);
  if (room) emitter.to(room).emit(event, ...payload);
  else emitter.emit(event, ...payload, Buffer.from([1, 2, 3]));
  await client.quit();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
