"""Instructions per parser operation under callgrind: a deterministic A/B of bench/parser_bench.py.

For each shape of $SIOX_BENCH_SHAPES and each operation (encode, decode, as parser_bench.py
defines them), runs the operation N and 5N times in a fresh interpreter under ``valgrind
--tool=callgrind`` and prints the difference of the instruction counts divided by 4N (start-up
and warm-up cancel out). Wall-clock rates on a shared machine are noisy; these counts vary by a
few percent only (memory layout).

Usage: .venv/bin/python bench/parser_callgrind.py [SRC_DIR]   (default: this checkout's src)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
N = int(os.environ.get("PARSER_CALLGRIND_N", "2000"))

CHILD = r"""
import copy, json, sys
sys.path.insert(0, sys.argv[1])
from siox.parser import Decoder, Packet, PacketType, encode
shape = json.load(open(sys.argv[2]))[sys.argv[3]]
data = copy.deepcopy(shape["data"])
if shape.get("bin"):
    data[1]["data"] = b"\xab" * 1024
ptype = PacketType.EVENT if shape["type"] == "event" else PacketType.ACK
ack_id = shape["id"]
frames = encode(Packet(ptype, "/", data, ack_id))
feed = Decoder().feed
def enc():
    return encode(Packet(ptype, "/", data, ack_id))
def dec():
    for frame in frames:
        out = feed(frame)
    return out
fn = enc if sys.argv[4] == "encode" else dec
for _ in range(int(sys.argv[5])):
    fn()
"""


def instructions(src: str, shapes: str, shape: str, op: str, count: int) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            CHILD,
            src,
            shapes,
            shape,
            op,
            str(count),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        env=dict(os.environ, PYTHONHASHSEED="0"),
    )
    match = re.search(r"Collected : (\d+)", done.stderr)
    assert match, done.stderr
    return int(match.group(1))


def main() -> None:
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "src")
    shapes = os.environ.get("SIOX_BENCH_SHAPES") or os.path.join(
        HERE, "..", "..", "shared", "bench", "parser", "shapes.json"
    )
    import json

    with open(shapes) as f:
        names = [k for k in json.load(f) if not k.startswith("_")]
    print(f"{'shape':<14} {'encode Ir/op':>13} {'decode Ir/op':>13}")
    for name in names:
        per_op = []
        for op in ("encode", "decode"):
            low = instructions(src, shapes, name, op, N)
            high = instructions(src, shapes, name, op, 5 * N)
            per_op.append((high - low) / (4 * N))
        print(f"{name:<14} {per_op[0]:>13.0f} {per_op[1]:>13.0f}", flush=True)


if __name__ == "__main__":
    main()
