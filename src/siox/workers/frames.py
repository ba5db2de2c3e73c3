"""The frames of the local pub/sub hub: a length, an operation, then length-prefixed items.

``!I`` body length, then the body: one operation byte and items, each ``!I`` length + bytes.
Worker to hub: `SUB` / `UNSUB` ``[pattern, *channels]``, `PUB` ``[channel, message]``,
`NUMSUB` ``[request id, channel]``. Hub to worker: `MSG` ``[key, channel, message]`` (``key`` is
the pattern or channel subscribed, with a ``p`` or ``c`` prefix), `COUNT` ``[request id, n]``.
"""

from __future__ import annotations

import struct

__all__ = ["COUNT", "MSG", "NUMSUB", "PUB", "SUB", "UNSUB", "FrameError", "encode", "split"]

SUB, UNSUB, PUB, NUMSUB, MSG, COUNT = range(1, 7)
_LEN = struct.Struct("!I")
#: the largest frame either side accepts (a cluster message is at most 8 MB by default)
MAX_FRAME = 64 * 1024 * 1024


class FrameError(ValueError):
    """A frame that does not parse (the link is dropped)."""


def encode(op: int, *items: bytes) -> bytes:
    """One frame."""
    body = [bytes((op,))]
    for item in items:
        body.append(_LEN.pack(len(item)))
        body.append(item)
    joined = b"".join(body)
    return _LEN.pack(len(joined)) + joined


def split(buffer: bytearray) -> list[tuple[int, list[bytes]]]:
    """Take every whole frame off the front of ``buffer``: ``(op, items)`` pairs."""
    frames = []
    while len(buffer) >= _LEN.size:
        (length,) = _LEN.unpack_from(buffer)
        if length == 0 or length > MAX_FRAME:
            raise FrameError(f"a frame of {length} bytes")
        end = _LEN.size + length
        if len(buffer) < end:
            break
        body = memoryview(bytes(buffer[_LEN.size : end]))
        del buffer[:end]
        items, pos = [], 1
        while pos < len(body):
            if pos + _LEN.size > len(body):
                raise FrameError("a truncated item")
            (size,) = _LEN.unpack_from(body, pos)
            pos += _LEN.size
            if pos + size > len(body):
                raise FrameError("a truncated item")
            items.append(bytes(body[pos : pos + size]))
            pos += size
        frames.append((body[0], items))
    return frames
