"""Measure the per-message path of a steady WebSocket session (not a test; run it by hand).

    .venv/bin/python tests/engineio/fastpath_benchmark.py            # fast paths on
    SIOX_NO_FAST_PATHS=1 .venv/bin/python tests/engineio/fastpath_benchmark.py

Cases, each per message, best of several repeats (microseconds of CPU time):

* ``engine echo``: `WebSocketHandle.receive("4hello")` on a bare `EngineServer` whose message
  handler writes the message back (session receive, delivery, direct write);
* ``engine receive``: the same with a handler that does nothing;
* ``socket.io ack``: `WebSocketHandle.receive('420["echo","hello",{...}]')` on a `siox.Server`
  whose plain-function handler returns its arguments (the acked echo of the benchmarks);
* ``ws frames``: `WebSocketConnection.receive_data` of one masked small text frame;
* ``native ack``: the acked echo through the native front end end to end, bytes in and bytes
  out: `HttpProtocol.data_received` of one masked client frame, with a transport that only
  counts the bytes written.

Frames are written to an in-memory channel that only counts them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import timeit
from typing import Any

import siox
from siox.http.frames import Opcode, encode_frame
from siox.http.websocket import Role, WebSocketConnection
from siox.server.http_types import HttpRequest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run by hand
from memory_transport import MemoryTransport

NUMBER = 20_000
REPEAT = 7


class CountingChannel:
    """A WebSocket channel that counts what the engine writes."""

    supports_framed = False

    def __init__(self) -> None:
        self.sent = 0

    def send(self, data: str | bytes, compress: bool = True) -> None:
        self.sent += 1

    def send_framed(self, data: bytes) -> bool:
        return False

    def close(self, code: int = 1000) -> None:
        raise AssertionError(f"closed with {code}")


def best(action: Any) -> float:
    # CPU time, not wall time: the machine is shared, and a time slice lost to another process
    # is not work done here.
    runs = timeit.repeat(action, number=NUMBER, repeat=REPEAT, timer=time.process_time)
    return min(runs) / NUMBER * 1e6


async def open_handle(engine: siox.EngineServer) -> Any:
    request = HttpRequest(
        "GET", engine.path, "EIO=4&transport=websocket", {"host": "localhost"}, "127.0.0.1"
    )
    plan = await engine.check_websocket(request)
    return engine.open_websocket(plan, CountingChannel())  # type: ignore[arg-type]


async def engine_cases() -> dict[str, float]:
    echo = siox.EngineServer(ping_interval=3000.0, ping_timeout=3000.0)
    echo.on("message", lambda conn, data: conn.write([data]))
    quiet = siox.EngineServer(ping_interval=3000.0, ping_timeout=3000.0)
    quiet.on("message", lambda conn, data: None)
    echo_handle = await open_handle(echo)
    quiet_handle = await open_handle(quiet)
    return {
        "engine echo": best(lambda: echo_handle.receive("4hello")),
        "engine receive": best(lambda: quiet_handle.receive("4hello")),
    }


async def socketio_case() -> dict[str, float]:
    sio = siox.Server(ping_interval=3000.0, ping_timeout=3000.0)

    @sio.on("echo")
    def echo(socket: Any, *args: Any) -> Any:
        return args

    handle = await open_handle(sio.engine)
    handle.receive("40")
    for _ in range(3):
        await asyncio.sleep(0)  # let the connect handler run
    frame = '420["echo","hello",{"id":42,"user":"alice","ok":true}]'
    return {"socket.io ack": best(lambda: handle.receive(frame))}


async def native_case() -> dict[str, float]:
    from siox.http.handshake import ClientHandshake
    from siox.server.native import HttpProtocol

    sio = siox.Server(ping_interval=3000.0, ping_timeout=3000.0)

    @sio.on("echo")
    def echo(socket: Any, *args: Any) -> Any:
        return args

    protocol = HttpProtocol(sio.engine)
    transport = MemoryTransport(keep=False)
    protocol.connection_made(transport)  # type: ignore[arg-type]
    handshake = ClientHandshake("localhost", "/socket.io/?EIO=4&transport=websocket")
    protocol.data_received(handshake.request)
    for _ in range(5):
        await asyncio.sleep(0)  # the upgrade task
    key = b"\x01\x02\x03\x04"
    protocol.data_received(encode_frame(Opcode.TEXT, b"40", mask_key=key))
    for _ in range(5):
        await asyncio.sleep(0)  # the connect handler
    frame = encode_frame(
        Opcode.TEXT, b'420["echo","hello",{"id":42,"user":"alice","ok":true}]', mask_key=key
    )
    before = transport.written
    protocol.data_received(frame)
    assert transport.written > before, "no ack written"
    return {"native ack": best(lambda: protocol.data_received(frame))}


def ws_case() -> dict[str, float]:
    conn = WebSocketConnection(Role.SERVER)
    frame = encode_frame(Opcode.TEXT, b'420["echo","hello"]', mask_key=b"\x01\x02\x03\x04")
    return {"ws frames": best(lambda: conn.receive_data(frame))}


async def main() -> None:
    results = {
        **await engine_cases(),
        **await socketio_case(),
        **ws_case(),
        **await native_case(),
    }
    for name, micros in results.items():
        print(f"{name:>16}: {micros:6.3f} us")


if __name__ == "__main__":
    asyncio.run(main())
