"""How the native server writes a WebSocket handshake: the 101 with the open packet on v4.

On Engine.IO v4 the 101 and the open packet leave in one write (one send per connection less);
on v3 the 101 leaves alone first, as Node's server writes it: a v3 server says nothing more
until the client speaks, so a client that attaches its message listener after the WebSocket's
'open' event (the engine.io-protocol suite's v3 tests) must not get both in one read.
"""

from __future__ import annotations

import asyncio

import siox
from memory_transport import MemoryTransport
from siox.http.handshake import ClientHandshake
from siox.server.native import HttpProtocol


async def _handshake_writes(eio: int) -> list[bytes]:
    sio = siox.Server(allow_eio3=True)
    protocol = HttpProtocol(sio.engine)
    transport = MemoryTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    handshake = ClientHandshake("localhost", f"/socket.io/?EIO={eio}&transport=websocket")
    protocol.data_received(handshake.request)
    for _ in range(5):
        await asyncio.sleep(0)  # a task, if the checks suspended
    protocol.connection_lost(None)
    return transport.writes


async def test_v4_websocket_handshake_writes_the_101_and_the_open_packet_together() -> None:
    writes = await _handshake_writes(4)
    assert len(writes) == 1, writes
    head, _, frame = writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    assert frame[:1] == b"\x81" and frame[2:4] == b"0{", frame  # a text frame: the open packet


async def test_v3_websocket_handshake_writes_the_101_alone_first() -> None:
    writes = await _handshake_writes(3)
    assert len(writes) == 2, writes
    assert writes[0].startswith(b"HTTP/1.1 101 ") and writes[0].endswith(b"\r\n\r\n")
    assert writes[1][:1] == b"\x81" and writes[1][2:4] == b"0{", writes[1]
