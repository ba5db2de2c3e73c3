"""siox parser micro-benchmark for the side-by-side benchmark harness (scenario `parser`).

encode = build the Packet and encode it (what a server does per emit/ack);
decode = feed the encoded frames to a per-connection Decoder until the packet comes out.
Reads the shapes from the JSON file named by $SIOX_BENCH_SHAPES and prints one
`RESULT {json}` line per shape. $PARSER_BENCH_SECONDS sets the time per measurement (1 s).
"""

from __future__ import annotations

import copy
import json
import os
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
        print(
            "RESULT "
            + json.dumps(
                {"impl": "siox", "shape": name, "encode_ops_s": round(e), "decode_ops_s": round(d)}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
