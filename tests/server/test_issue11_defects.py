"""Issue 11 defects on the server: serving again after a shutdown (5), emits to a socket in
its recovery window (6), empty dynamic children removed (7), emits to undefined namespaces (8).

Each test is named after its item; the interop counterparts with socket.io-client 4 are in
tests/interop/test_issue11_interop.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

import siox
from siox.testing import TestServer


async def test_item5_a_server_serves_again_after_a_shutdown() -> None:
    sio = siox.Server()

    @sio.on("echo")
    def echo(socket: siox.Socket, value: Any) -> Any:
        return value

    for round_ in range(2):
        async with siox.serve(sio, port=0, shutdown_timeout=0.5) as serving:
            url = f"http://127.0.0.1:{serving.port}"
            async with siox.connect(url, reconnection=False, timeout=5.0) as socket:
                assert await socket.emit_with_ack("echo", round_, timeout=5.0) == round_


async def test_item6_socket_emit_inside_the_recovery_window_is_replayed() -> None:
    sio = siox.Server(connection_state_recovery=True)
    away: list[siox.Socket] = []

    @sio.on("connect")
    def connect(socket: siox.Socket) -> None:
        if not socket.recovered:
            away.append(socket)

    async with TestServer(sio) as server:
        client = await server.connect()
        await away[0].emit("hello", 1)
        await server.settle()
        assert client.events("hello") == [(1, client.last_offset)]
        session = client.session()
        client.close_transport()
        await server.settle()
        assert not away[0].connected
        await away[0].emit("while-away", 2)  # the socket is inside its recovery window
        back = await server.connect(auth=session)
        assert back.id == client.id
        assert (await back.wait_for("while-away"))[0] == 2


async def test_item7_empty_dynamic_child_namespaces_are_removed_by_default() -> None:
    sio = siox.Server()
    parent = sio.of(re.compile(r"/room-\d+"))
    async with TestServer(sio) as server:
        for number in range(50):
            client = await server.connect(f"/room-{number}")
            await client.disconnect()
        await server.settle()
        assert not parent.children  # type: ignore[attr-defined]
        assert [name for name in sio.namespaces if name.startswith("/room-")] == []
        # A child that still has a socket stays, and a name can be joined again.
        kept = await server.connect("/room-1")
        other = await server.connect("/room-2")
        await other.disconnect()
        assert set(sio.namespaces) == {"/", "/room-1"}
        assert kept.connected


async def test_item7_refused_connections_leave_no_child_namespace_behind() -> None:
    sio = siox.Server()
    parent = sio.of(re.compile(r"/room-\d+"))

    @parent.use
    def refuse(socket: siox.Socket, auth: dict[str, Any]) -> None:
        raise siox.ConnectionRefused("no")

    async with TestServer(sio) as server:
        for number in range(20):
            with pytest.raises(siox.ConnectionRefused):
                await server.connect(f"/room-{number}")
        await server.settle()
        assert set(sio.namespaces) == {"/"}


async def test_item7_cleanup_empty_child_namespaces_can_be_turned_off() -> None:
    sio = siox.Server(cleanup_empty_child_namespaces=False)
    sio.of(re.compile(r"/room-\d+"))
    assert sio.options.cleanup_empty_child_namespaces is False
    async with TestServer(sio) as server:
        for number in range(3):
            client = await server.connect(f"/room-{number}")
            await client.disconnect()
        assert set(sio.namespaces) == {"/", "/room-0", "/room-1", "/room-2"}


async def test_item8_emitting_to_an_undefined_namespace_creates_nothing() -> None:
    sio = siox.Server()
    async with TestServer(sio) as server:
        await sio.emit("news", 1, namespace="/typo")
        assert "/typo" not in sio.namespaces
        with pytest.raises(siox.ConnectionRefused, match="Invalid namespace"):
            await server.connect("/typo")
        # A defined namespace still gets it.
        sio.of("/chat")
        client = await server.connect("/chat")
        await sio.emit("news", 2, namespace="chat")
        assert await client.wait_for("news") == (2,)
        with pytest.raises(ValueError):
            await sio.emit("connect", namespace="/typo")  # reserved names are still checked


async def test_item7_a_child_is_kept_while_a_connection_to_it_is_under_way() -> None:
    import asyncio

    sio = siox.Server()
    parent = sio.of(re.compile(r"/room-\d+"))
    gate = asyncio.Event()

    @parent.use
    async def wait_for_gate(socket: siox.Socket, auth: dict[str, Any]) -> None:
        if auth.get("wait"):
            await gate.wait()

    async with TestServer(sio) as server:
        first = await server.connect("/room-1")
        second = asyncio.ensure_future(server.connect("/room-1", auth={"wait": True}))
        await server.settle()
        await first.disconnect()  # the child is empty, but a CONNECT is in its middleware
        gate.set()
        late = await second
        await parent.emit("news", 1)
        assert await late.wait_for("news") == (1,)
        assert "/room-1" in sio.namespaces
