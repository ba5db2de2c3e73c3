"""Fuzz the WebSocket framing: server and client roles, with and without permessage-deflate.

Bytes from the peer, cut in pieces (1-17 bytes as the input's first byte picks, longer for an
input over 64 of them), must only ever produce events (a protocol error
is a `ConnectionFailed` event with a close code), never an exception; a connection that
failed must stay failed. See fuzzkit for how to run it.
"""

from __future__ import annotations

from fuzzkit import main

from siox.http.deflate import DeflateParams
from siox.http.websocket import ConnectionFailed, WebSocketConnection
from siox.http.websocket_events import Role

_DEFLATE = DeflateParams()
# At most this many reads per input: a long input is read in longer pieces (its cuts still fall
# anywhere in a frame), so one input costs O(pieces) calls, not O(bytes) (a 4 KB input in 1-byte
# reads took ~4,000 `receive_data` calls and ran the target at ~100 inputs/s under atheris).
_MAX_READS = 64


def _frame(
    opcode: int, payload: bytes, *, mask: bool, fin: bool = True, rsv1: bool = False
) -> bytes:
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    if mask:
        key = b"\x01\x02\x03\x04"
        head += key
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + payload


SEEDS = [
    b"\x00" + _frame(1, b'42["e",1]', mask=True),
    b"\x01" + _frame(2, b"\x04\x00\xff", mask=False),
    b"\x00" + _frame(1, b"4", mask=True, fin=False) + _frame(0, b"2", mask=True),
    b"\x00" + _frame(9, b"ping", mask=True) + _frame(8, b"\x03\xe8bye", mask=True),
    b"\x02" + _frame(1, b"\xf2\x0c\xad\x4d\x02\x00", mask=True, rsv1=True),
    b"\x00" + _frame(1, b"\xc3\x28", mask=True),
    b"\x00" + _frame(1, b"x" * 200, mask=True),
]


def check(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0], data[1:]
    role = Role.CLIENT if mode & 1 else Role.SERVER
    deflate = _DEFLATE if mode & 2 else None
    conn = WebSocketConnection(role, max_message_size=4096, max_fragments=8, deflate=deflate)
    step = max(1 + (mode >> 2) % 17, -(-len(rest) // _MAX_READS))
    failed = False
    for at in range(0, len(rest), step):
        for event in conn.receive_data(rest[at : at + step]):
            if isinstance(event, ConnectionFailed):
                failed = True
        if failed:
            assert conn.close_code is not None
    conn.receive_eof()
    conn.data_to_send()


if __name__ == "__main__":
    main(check, SEEDS, __doc__)
