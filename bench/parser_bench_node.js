'use strict';
// npm socket.io-parser side of bench/parser_bench.py --compare: the same shapes, the same
// definitions (encode = Encoder.encode of a fresh packet object; decode = Decoder.add of each
// encoded part until 'decoded'). Prints one `RESULT {json}` line per shape.
// Usage: node bench/parser_bench_node.js SHAPES.json   (socket.io-parser from tests/node)
const fs = require('fs');
const path = require('path');
const { Encoder, Decoder, PacketType } = require(
  path.join(__dirname, '..', 'tests', 'node', 'node_modules', 'socket.io-parser'));

const seconds = parseFloat(process.env.PARSER_BENCH_SECONDS || '1.0');

function opsPerSecond(fn) {
  let count = 0;
  const start = process.hrtime.bigint();
  for (;;) {
    for (let i = 0; i < 1000; i++) fn();
    count += 1000;
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    if (elapsed >= seconds) return count / elapsed;
  }
}

const shapes = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const encoder = new Encoder();
for (const name of Object.keys(shapes)) {
  if (name.startsWith('_')) continue;
  const shape = shapes[name];
  const data = JSON.parse(JSON.stringify(shape.data));
  if (shape.bin) data[1].data = Buffer.alloc(1024, 0xab);
  const type = shape.type === 'event' ? PacketType.EVENT : PacketType.ACK;
  const packet = () => (shape.id == null ? { type, nsp: '/', data } : { type, nsp: '/', data, id: shape.id });
  const encode = () => encoder.encode(packet());
  const parts = encode();
  const decoder = new Decoder();
  let decoded = null;
  decoder.on('decoded', (p) => { decoded = p; });
  const decode = () => { for (const part of parts) decoder.add(part); return decoded; };
  if (decode() === null) throw new Error(`no packet decoded for ${name}`);
  const result = { impl: 'node socket.io-parser', shape: name,
    encode_ops_s: Math.round(opsPerSecond(encode)), decode_ops_s: Math.round(opsPerSecond(decode)) };
  console.log('RESULT ' + JSON.stringify(result));
}
