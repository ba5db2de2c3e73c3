"""Parsers on a real loopback server: the msgpack parser gets ``max_http_buffer_size``, and
parser objects of the documented shape (the module `siox.parser.msgpack` itself) work end to end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import siox
import siox.parser
import siox.parser.msgpack
from rawpeer import running

BIG = bytes(range(256)) * 6_000  # 1.5 MB
TRANSPORTS = {"polling": ("polling",), "websocket": ("websocket",)}


def _server(**options: Any) -> tuple[siox.Server, asyncio.Queue[int]]:
    sio = siox.Server(**options)
    received: asyncio.Queue[int] = asyncio.Queue()

    @sio.on("big")
    def big(socket: siox.Socket, data: bytes) -> int:
        received.put_nowait(len(data))
        return len(data)

    return sio, received


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_a_large_msgpack_event_reaches_its_handler_under_a_raised_buffer_size(
    transport: str,
) -> None:
    sio, received = _server(parser="msgpack", max_http_buffer_size=5_000_000)
    async with (
        running(sio) as port,
        siox.connect(
            f"http://127.0.0.1:{port}",
            parser="msgpack",
            transports=TRANSPORTS[transport],
            reconnection=False,
            wait_timeout=5,
        ) as socket,
    ):
        assert await socket.emit_with_ack("big", BIG, timeout=10) == len(BIG)
    assert received.get_nowait() == len(BIG)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_a_large_msgpack_event_is_refused_under_the_default_buffer_size(
    transport: str,
) -> None:
    sio, received = _server(parser="msgpack")
    async with (
        running(sio) as port,
        siox.connect(
            f"http://127.0.0.1:{port}",
            parser="msgpack",
            transports=TRANSPORTS[transport],
            reconnection=False,
            wait_timeout=5,
        ) as socket,
    ):
        gone = asyncio.Event()
        socket.on("disconnect", lambda *reason: gone.set())
        await socket.emit("big", BIG)
        await asyncio.wait_for(gone.wait(), 10)
        assert not socket.connected
    assert received.empty()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("client_parser", ["msgpack", siox.parser.msgpack], ids=["name", "module"])
async def test_the_msgpack_module_as_server_parser_talks_to_a_msgpack_client(
    transport: str, client_parser: Any
) -> None:
    sio = siox.Server(parser=siox.parser.msgpack)

    @sio.on("echo")
    def echo(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    async with (
        running(sio) as port,
        siox.connect(
            f"http://127.0.0.1:{port}",
            parser=client_parser,
            transports=TRANSPORTS[transport],
            wait_timeout=5,
        ) as socket,
    ):
        value = {"bin": b"\x00\xff", "list": [1, 2.5, None, True], "s": "\u00e9"}
        assert await socket.emit_with_ack("echo", value, b"x", timeout=5) == (value, b"x")


async def test_the_default_parser_module_as_parser_serves_json_clients() -> None:
    sio = siox.Server(parser=siox.parser, allow_eio3=True)

    @sio.on("echo")
    def echo(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    async with (
        running(sio) as port,
        siox.connect(f"http://127.0.0.1:{port}", parser=siox.parser, wait_timeout=5) as socket,
    ):
        assert await socket.emit_with_ack("echo", [1], b"\x01", timeout=5) == ([1], b"\x01")
