"""The client's write path: masking keys, and writes joined until the peer's next read."""

from __future__ import annotations

import asyncio
from typing import Any

from siox.client.stream import Stream
from siox.client.websocket import _MaskingKeys


class RecordingTransport(asyncio.Transport):
    """An in-memory transport that keeps every write as one chunk."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return False


def test_masking_keys_are_fresh_four_byte_keys_across_pool_refills() -> None:
    keys = _MaskingKeys()
    drawn = [keys(4) for _ in range(3000)]  # past the 4 KiB pool: refilled twice
    assert all(len(key) == 4 for key in drawn)
    assert len(set(drawn)) > 2990  # random: a handful of collisions at most in 2**32
    assert len(keys(5000)) == 5000  # more than a pool at once


async def test_first_write_goes_out_at_once_and_the_rest_wait_for_the_end_of_the_iteration() -> (
    None
):
    stream = Stream()
    transport = RecordingTransport()
    stream.connection_made(transport)
    stream.write_soon(b"a")
    assert transport.writes == [b"a"]  # at once
    stream.write_soon(b"b")
    stream.write_soon(b"c")
    assert transport.writes == [b"a"]  # held: written once, joined
    await asyncio.sleep(0)
    assert transport.writes == [b"a", b"bc"]
    stream.write_soon(b"d")  # the held ones went out: at once again
    assert transport.writes == [b"a", b"bc", b"d"]
    await asyncio.sleep(0)
    stream.write_soon(b"e")  # nothing read since "d": held until the iteration ends
    assert transport.writes == [b"a", b"bc", b"d"]
    stream.data_received(b"reply")
    stream.write_soon(b"f")  # behind the held "e", in order
    await asyncio.sleep(0)
    assert transport.writes == [b"a", b"bc", b"d", b"ef"]
    stream.write_soon(b"x")
    await asyncio.sleep(0)
    stream.data_received(b"reply")  # the peer answered: the next write goes out at once
    stream.write_soon(b"y")
    assert transport.writes == [b"a", b"bc", b"d", b"ef", b"x", b"y"]
    stream.write_soon(b"g")
    stream.write(b"h")  # a plain write flushes what is held first
    assert transport.writes[-2:] == [b"g", b"h"]
