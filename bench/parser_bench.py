"""siox parser micro-benchmark for the side-by-side benchmark harness (scenario `parser`).

encode = build the Packet and encode it (what a server does per emit/ack);
decode = feed the encoded frames to a per-connection Decoder until the packet comes out.
Reads the shapes from the JSON file named by $SIOX_BENCH_SHAPES and prints one
`RESULT {json}` line per shape. $PARSER_BENCH_SECONDS sets the time per measurement (1 s).

``--compare`` also runs npm socket.io-parser on the same shapes (bench/parser_bench_node.js,
with the socket.io-parser of tests/node) and prints, per shape, siox's rate divided by
node's for encode and decode. On a busy machine, run it a few times: both sides are timed.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from siox.parser import Decoder, Packet, PacketType, encode

DURATION = float(os.environ.get("PARSER_BENCH_SECONDS", "1.0"))


def rate(fn: Callable[[], Any]) -> float:
    n, t0 = 0, time.perf_counter()
    while True:
        for _ in range(1000):
            fn()
        n += 1000
        dt = time.perf_counter() - t0
        if dt >= DURATION:
            return n / dt


def compare(path: str, ours: dict[str, dict[str, Any]]) -> None:
    """Run the node side on the same shapes and print siox / node per shape."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parser_bench_node.js")
    done = subprocess.run(
        ["node", script, path], capture_output=True, text=True, timeout=120, check=True
    )
    print(f"{'shape':<14} {'encode siox/node':>17} {'decode siox/node':>17}")
    for line in done.stdout.splitlines():
        if not line.startswith("RESULT "):
            continue
        theirs = json.loads(line[len("RESULT ") :])
        mine = ours[theirs["shape"]]
        enc = mine["encode_ops_s"] / theirs["encode_ops_s"]
        dec = mine["decode_ops_s"] / theirs["decode_ops_s"]
        print(f"{theirs['shape']:<14} {enc:>16.2f}x {dec:>16.2f}x", flush=True)


def main() -> None:
    path = os.environ.get("SIOX_BENCH_SHAPES") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "..",
        "..",
        "shared",
        "bench",
        "parser",
        "shapes.json",
    )
    with open(path) as f:
        shapes = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    results: dict[str, dict[str, Any]] = {}
    for name, shape in shapes.items():
        data = copy.deepcopy(shape["data"])
        if shape.get("bin"):
            data[1]["data"] = b"\xab" * 1024
        ptype = PacketType.EVENT if shape["type"] == "event" else PacketType.ACK
        ack_id = shape["id"]

        def enc(ptype: PacketType = ptype, data: Any = data, ack_id: Any = ack_id) -> Any:
            return encode(Packet(ptype, "/", data, ack_id))

        frames = enc()
        decoder = Decoder()
        feed = decoder.feed

        if len(frames) == 1:
            text = frames[0]

            def dec(text: Any = text, feed: Any = feed) -> Any:
                return feed(text)
        else:

            def dec(frames: Any = frames, feed: Any = feed) -> Any:
                for frame in frames:
                    out = feed(frame)
                return out

        (packet,) = dec()
        assert packet.data == data, name
        e, d = rate(enc), rate(dec)
        results[name] = {
            "impl": "siox",
            "shape": name,
            "encode_ops_s": round(e),
            "decode_ops_s": round(d),
        }
        print("RESULT " + json.dumps(results[name]), flush=True)
    if "--compare" in sys.argv[1:]:
        compare(path, results)


if __name__ == "__main__":
    main()
