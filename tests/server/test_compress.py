"""The ``compress`` flag: honoured on single emits and broadcasts, over polling and WebSocket.

Over long-polling a response is gzipped (when the client accepts it and it is large enough)
unless every packet in it was sent with ``compress(False)``, as engine.io does. Over WebSocket
with permessage-deflate, ``compress(False)`` sends the message uncompressed (RSV1 clear) and the
default compresses it, broadcasts included (engine.io 6.6 ignores the flag there).
"""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

import pytest

import siox
from rawpeer import eio_url, http, open_polling, running

BIG = "x" * 4000


def compress_server() -> siox.Server:
    sio = siox.Server(per_message_deflate=True)

    @sio.on("single")
    async def single(socket: siox.Socket, compress: bool) -> None:
        await socket.compress(compress).emit("data", BIG)

    @sio.on("broadcast")
    async def broadcast(socket: siox.Socket, compress: bool) -> None:
        await sio.compress(compress).emit("data", BIG)

    return sio


async def polling_response(port: int, kind: str, compress: bool) -> dict[str, str]:
    sid, _ = await open_polling(port)
    url = eio_url(f"transport=polling&sid={sid}")
    await http(port, "POST", url, b"40")
    connected = await http(port, "GET", url)
    assert connected.text.startswith("40{")
    await http(port, "POST", url, f'42["{kind}",{json.dumps(compress)}]'.encode())
    got = await http(port, "GET", url, headers=[("Accept-Encoding", "gzip")])
    assert got.status == 200
    return got.headers


@pytest.mark.parametrize("kind", ["single", "broadcast"])
async def test_polling_responses_are_gzipped_unless_compress_false(kind: str) -> None:
    async with running(compress_server()) as port:
        plain = await polling_response(port, kind, False)
        gzipped = await polling_response(port, kind, True)
    assert "content-encoding" not in plain
    assert gzipped.get("content-encoding") == "gzip"


async def deflate_websocket(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"GET {eio_url('transport=websocket')} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101") and b"permessage-deflate" in head
    return reader, writer


def client_text_frame(text: str) -> bytes:
    payload = text.encode()
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + b"\0\0\0\0" + payload  # zero mask key


async def server_message(reader: asyncio.StreamReader) -> tuple[bool, str]:
    """One whole server message: (whether RSV1 was set, its text)."""
    first, second = await asyncio.wait_for(reader.readexactly(2), 5)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    payload = await reader.readexactly(length)
    compressed = bool(first & 0x40)
    if compressed:
        payload = zlib.decompressobj(-zlib.MAX_WBITS).decompress(payload + b"\x00\x00\xff\xff")
    return compressed, payload.decode()


async def websocket_message(port: int, kind: str, compress: bool) -> tuple[bool, Any]:
    reader, writer = await deflate_websocket(port)
    try:
        opened = await server_message(reader)
        assert opened[1].startswith("0{")
        writer.write(client_text_frame("40"))
        assert (await server_message(reader))[1].startswith("40{")
        writer.write(client_text_frame(f'42["{kind}",{json.dumps(compress)}]'))
        compressed, text = await server_message(reader)
        return compressed, json.loads(text[2:])
    finally:
        writer.close()


@pytest.mark.parametrize("kind", ["single", "broadcast"])
async def test_websocket_messages_are_deflated_unless_compress_false(kind: str) -> None:
    async with running(compress_server()) as port:
        plain = await websocket_message(port, kind, False)
        deflated = await websocket_message(port, kind, True)
    assert plain == (False, ["data", BIG])
    assert deflated == (True, ["data", BIG])
