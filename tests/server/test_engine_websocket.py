"""Engine.IO framing over WebSocket at the server: E01, E07, E08, E11, W06, W13 and friends."""

from __future__ import annotations

import asyncio

import pytest

import siox
from rawpeer import RawWebSocket, eio_url, running, websocket, ws_connect_sio


@pytest.mark.parametrize("frame", ["", "7", "9x", "x"])
async def test_e01_invalid_engine_packets_close_the_connection(frame: str) -> None:
    sio = siox.Server()
    reasons: list[str] = []
    sio.on("disconnect", lambda socket, reason: reasons.append(reason))
    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send(frame)
        await peer.closed()
        await asyncio.sleep(0.05)
    assert reasons == ["parse error"]


async def test_e07_open_and_upgrade_packets_from_the_client_are_ignored() -> None:
    sio = siox.Server()

    @sio.on("echo")
    def echo(socket: siox.Socket, x: object) -> object:
        return x

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('0{"sid":"x"}')
        await peer.send("5")
        await peer.send('421["echo",1]')
        assert await peer.recv() == "431[1]"


async def test_e07_close_packet_over_websocket_closes_with_transport_close() -> None:
    sio = siox.Server()
    reasons: list[str] = []
    sio.on("disconnect", lambda socket, reason: reasons.append(reason))
    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send("1")
        await peer.closed()
        await asyncio.sleep(0.05)
    assert reasons == ["transport close"]


async def test_e08_client_pings_in_v4_close_the_session_at_once() -> None:
    sio = siox.Server()
    reasons: list[str] = []
    sio.on("disconnect", lambda socket, reason: reasons.append(reason))
    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        for _ in range(100):
            await peer.send("2")
        await peer.closed()
        await asyncio.sleep(0.05)
    assert reasons == ["transport error"]


async def test_e11_binary_frame_is_a_binary_message_never_a_control_packet() -> None:
    engine = siox.EngineServer()
    received: list[object] = []
    engine.on("message", lambda session, data: received.append(data))
    async with running(engine) as port:
        peer = await websocket(port, eio_url("transport=websocket", "/engine.io/"))
        assert isinstance(peer, RawWebSocket)
        await peer.recv()
        await peer.send(b"1")  # the bytes of a "close" digit: still just a binary message
        await peer.send(b"\x02probe")
        await asyncio.sleep(0.1)
    assert received == [b"1", b"\x02probe"]


async def test_w06_an_oversized_message_closes_with_1009_and_others_are_unaffected() -> None:
    sio = siox.Server()

    @sio.on("echo")
    def echo(socket: siox.Socket, x: object) -> object:
        return x

    async with running(sio) as port:
        other, _ = await ws_connect_sio(port)
        peer, _ = await ws_connect_sio(port)
        await peer.send("4" + "x" * 1_000_001)
        assert await peer.closed() == 1009
        await other.send('421["echo","still here"]')
        assert await other.recv() == '431["still here"]'


async def test_bare_engine_server_echo() -> None:
    engine = siox.EngineServer()

    @engine.on("message")
    async def message(session: object, data: str | bytes) -> None:
        await session.send(data)  # type: ignore[attr-defined]

    async with running(engine) as port:
        peer = await websocket(port, eio_url("transport=websocket", "/engine.io/"))
        assert isinstance(peer, RawWebSocket)
        opened = await peer.recv()
        assert isinstance(opened, str) and opened.startswith('0{"sid":')
        await peer.send("4hello")
        assert await peer.recv() == "4hello"
        await peer.send(b"\x00\xff")
        assert await peer.recv() == b"\x00\xff"
