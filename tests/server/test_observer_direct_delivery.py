"""An observer sees every message a client sends over WebSocket, whether it watched the
connection from its opening (the message goes through ``engine_message``) or was added after
(direct delivery of Socket.IO events to the connection's driver is then turned off)."""

from __future__ import annotations

import siox
from siox.server.engine_api import EngineConnection
from siox.server.observer import ServerObserver
from siox.testing import TestServer


class Messages(ServerObserver):
    def __init__(self) -> None:
        self.seen: list[str | bytes] = []

    def message_received(self, conn: EngineConnection, data: str | bytes) -> None:
        self.seen.append(data)


async def test_an_observer_added_before_the_connection_sees_its_messages() -> None:
    sio = siox.Server()
    sio.on("hi", lambda socket, *args: None)
    observer = Messages()
    sio.add_observer(observer)
    async with TestServer(sio) as server:
        client = await server.connect()
        await client.emit("hi", 1)
        await server.settle()
    assert '2["hi",1]' in observer.seen


async def test_an_observer_added_after_the_connection_sees_its_later_messages() -> None:
    sio = siox.Server()
    got: list[int] = []
    sio.on("hi", lambda socket, n: got.append(n))
    async with TestServer(sio) as server:
        client = await server.connect()
        await client.emit("hi", 1)
        await server.settle()
        observer = Messages()
        sio.add_observer(observer)
        await client.emit("hi", 2)
        await server.settle()
    assert observer.seen == ['2["hi",2]']
    assert got == [1, 2]  # the handler runs the same either way
