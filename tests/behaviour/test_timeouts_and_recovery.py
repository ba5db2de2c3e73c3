"""Heartbeats, the connect timeout and connection state recovery on siox.testing's manual clock."""

from __future__ import annotations

import siox
from siox.testing import TestServer


async def test_pings_are_answered_and_the_session_lives_as_the_clock_moves() -> None:
    sio = siox.Server(ping_interval=25.0, ping_timeout=20.0)
    async with TestServer(sio) as server:
        client = await server.connect()
        for _ in range(10):
            server.advance(25.0)
            await server.settle()
        assert client.connected and client.close_code is None
        assert server.clock.time() == 250.0


async def test_a_client_that_stops_answering_pings_is_dropped_after_the_ping_timeout() -> None:
    sio = siox.Server(ping_interval=25.0, ping_timeout=20.0)
    reasons: list[str] = []

    @sio.on("disconnect")
    def disconnect(socket: siox.Socket, reason: str) -> None:
        reasons.append(reason)

    async with TestServer(sio) as server:
        client = await server.connect()
        client.answers_pings = False
        server.advance(25.0)  # the ping goes out, unanswered
        await server.settle()
        server.advance(19.9)
        await server.settle()
        assert reasons == []
        server.advance(0.2)
        await server.settle()
        assert reasons == ["ping timeout"]
        assert not client.connected


async def test_a_connection_that_joins_no_namespace_is_closed_at_the_connect_timeout() -> None:
    sio = siox.Server(connect_timeout=45.0)
    async with TestServer(sio) as server:
        client = await server.open()
        server.advance(44.0)
        await server.settle()
        assert client.close_code is None
        server.advance(2.0)
        await server.settle()
        assert client.close_code is not None


async def test_recovery_restores_the_session_until_the_window_closes() -> None:
    sio = siox.Server(connection_state_recovery=siox.Recovery(max_disconnection_duration=60.0))

    @sio.on("connect")
    async def connect(socket: siox.Socket) -> None:
        if not socket.recovered:
            await socket.join("news")

    async with TestServer(sio) as server:
        client = await server.connect()
        await sio.to("news").emit("headline", 1)
        await server.settle()
        session = client.session()
        client.close_transport()
        await server.settle()
        await sio.to("news").emit("headline", 2)  # missed while away
        back = await server.connect(auth=session)
        assert back.id == client.id
        assert (await back.wait_for("headline"))[0] == 2  # then the offset
        session = back.session()
        back.close_transport()
        await server.settle()
        server.advance(61.0)
        late = await server.connect(auth=session)
        assert late.id != client.id
