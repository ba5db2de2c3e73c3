"""Rooms and broadcasts, over the in-memory pair of siox.testing."""

from __future__ import annotations

import asyncio

import siox
from siox.testing import TestServer


def room_server() -> siox.Server:
    sio = siox.Server()

    @sio.on("join")
    async def join(socket: siox.Socket, room: str) -> None:
        await socket.join(room)

    @sio.on("leave")
    async def leave(socket: siox.Socket, room: str) -> None:
        await socket.leave(room)

    @sio.on("shout")
    async def shout(socket: siox.Socket, room: str, text: str) -> None:
        await socket.to(room).emit("heard", text)

    @sio.on("rooms")
    def rooms(socket: siox.Socket) -> list[str]:
        return sorted(socket.rooms)

    return sio


async def test_socket_to_room_reaches_the_room_but_not_the_sender() -> None:
    async with TestServer(room_server()) as server:
        alice, bob, carol = [await server.connect() for _ in range(3)]
        for client in (alice, bob):
            await client.emit_with_ack("join", "lobby")
        await alice.emit_with_ack("shout", "lobby", "hi")
        await server.settle()
        assert bob.events("heard") == [("hi",)]
        assert alice.events("heard") == [] and carol.events("heard") == []


async def test_a_socket_is_in_its_own_room_and_leaves_rooms() -> None:
    async with TestServer(room_server()) as server:
        alice = await server.connect()
        assert await alice.emit_with_ack("join", "a") is None
        assert alice.id is not None
        assert await alice.emit_with_ack("rooms") == sorted([alice.id, "a"])
        await alice.emit_with_ack("leave", "a")
        assert await alice.emit_with_ack("rooms") == [alice.id]


async def test_server_broadcast_operators_compose() -> None:
    sio = room_server()
    async with TestServer(sio) as server:
        a, b, c = [await server.connect() for _ in range(3)]
        await a.emit_with_ack("join", "x")
        await b.emit_with_ack("join", "x")
        await b.emit_with_ack("join", "y")
        await c.emit_with_ack("join", "y")
        await sio.to("x").except_("y").emit("only-a")
        await sio.to("x").to("y").emit("all-three")
        await sio.in_("y").sockets_join("z")
        await sio.to("z").emit("b-and-c")
        await server.settle()
        assert [bool(client.events("only-a")) for client in (a, b, c)] == [True, False, False]
        assert [len(client.events("all-three")) for client in (a, b, c)] == [1, 1, 1]
        assert [bool(client.events("b-and-c")) for client in (a, b, c)] == [False, True, True]


async def test_broadcast_acks_are_collected_per_socket() -> None:
    sio = room_server()
    async with TestServer(sio) as server:
        a, b = await server.connect(), await server.connect()

        @a.on("poll")
        def answer_a() -> str:
            return "A"

        asking = asyncio.create_task(sio.timeout(1.0).emit_with_ack("poll"))
        await server.settle()
        assert not asking.done()  # b has not answered, and the clock has not moved
        server.advance(1.0)
        results = await asking
        # b has no listener: socket.io-client never acks an event it does not handle
        assert results.replies == ["A"]
        assert results.by_socket == {a.id: "A"}
        assert results.timed_out == frozenset({b.id})
        assert results.missing == 1


async def test_a_disconnected_socket_leaves_every_room() -> None:
    sio = room_server()
    async with TestServer(sio) as server:
        alice = await server.connect()
        await alice.emit_with_ack("join", "x")
        await alice.disconnect()
        assert await sio.in_("x").fetch_sockets() == []
        assert sio.of("/").adapter.local.rooms.rooms() == {}


async def test_broadcast_acks_that_time_out_leave_nothing_behind() -> None:
    sio = room_server()
    async with TestServer(sio) as server:
        clients = [await server.connect() for _ in range(5)]  # none of them answers "poll"
        for _ in range(20):
            asking = asyncio.create_task(sio.timeout(1.0).emit_with_ack("poll"))
            await server.settle()
            server.advance(1.0)
            results = await asking
            assert results.missing == 5
        sockets = sio.of("/").sockets.values()
        assert [socket.pending_acks for socket in sockets] == [0] * len(clients)
