"""Measure siox.http's pure-Python WebSocket masking (not a test; run it by hand).

    .venv/bin/python tests/http/mask_benchmark.py

Prints throughput per payload size for apply_mask (big-integer XOR), next to a per-byte
generator loop as the naive baseline, and the full receive path (parse + unmask) of one
masked client frame.
"""

from __future__ import annotations

import os
import timeit

from siox.http._mask import apply_mask
from siox.http.frames import Opcode, encode_frame
from siox.http.websocket import Role, WebSocketConnection

SIZES = [16, 125, 1024, 16 * 1024, 64 * 1024, 1_000_000]


def naive(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i & 3] for i, b in enumerate(data))


def rate(seconds: float, size: int) -> str:
    return f"{size / seconds / 1e6:8.0f} MB/s  ({seconds * 1e6:9.1f} us)"


def best(stmt: object, number: int) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number  # type: ignore[arg-type]


def main() -> None:
    key = os.urandom(4)
    print(f"{'size':>9}  {'apply_mask':>28}  {'per-byte loop':>28}  {'receive_data (1 frame)':>28}")
    for size in SIZES:
        data = os.urandom(size)
        number = max(3, 2_000_000 // size)
        masked = best(lambda data=data: apply_mask(data, key), number)
        loop = best(lambda data=data: naive(data, key), max(1, number // 50))
        frame = encode_frame(Opcode.BINARY, data, mask_key=key)

        def receive(frame: bytes = frame) -> None:
            WebSocketConnection(Role.SERVER, max_message_size=None).receive_data(frame)

        received = best(receive, number)
        print(f"{size:>9}  {rate(masked, size)}  {rate(loop, size)}  {rate(received, size)}")


if __name__ == "__main__":
    main()
