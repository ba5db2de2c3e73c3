"""An adapter factory gets the server's recovery window (``Adapter.configure_recovery``)."""

from __future__ import annotations

import siox
from siox.adapters import InMemoryAdapter, LocalSockets
from siox.testing import TestServer


async def test_an_adapter_from_a_factory_recovers_with_the_servers_window() -> None:
    made: list[InMemoryAdapter] = []

    def factory(local: LocalSockets) -> InMemoryAdapter:
        made.append(InMemoryAdapter(local))  # no window of its own
        return made[-1]

    sio = siox.Server(adapter=factory, connection_state_recovery=True)

    @sio.on("connect")
    async def connect(socket: siox.Socket) -> None:
        if not socket.recovered:
            await socket.join("news")

    async with TestServer(sio) as server:
        client = await server.connect()
        await sio.to("news").emit("headline", 1)
        await server.settle()
        session = client.session()  # with the offset of headline 1
        client.close_transport()
        await server.settle()
        await sio.to("news").emit("headline", 2)  # missed while away
        back = await server.connect(auth=session)
        assert back.id == client.id
        assert (await back.wait_for("headline"))[0] == 2


async def test_an_adapters_own_window_wins_over_the_servers() -> None:
    now = [0.0]

    def factory(local: LocalSockets) -> InMemoryAdapter:
        return InMemoryAdapter(local, max_disconnection_duration=5.0, clock=lambda: now[0])

    sio = siox.Server(adapter=factory, connection_state_recovery=True)  # 120 s by default
    async with TestServer(sio) as server:
        client = await server.connect()
        await sio.emit("headline", 1)
        await server.settle()
        session = client.session()
        client.close_transport()
        await server.settle()
        now[0] += 6.0  # past the adapter's 5 s, well within the server's 120 s
        back = await server.connect(auth=session)
        assert back.id != client.id
