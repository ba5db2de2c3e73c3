"""Operations on a dynamic namespace rule act on every child namespace it created.

socket.io 4.8 sends a parent's ``emit``/``to``/``except`` to the children but returns ``[]`` from
``timeout().emitWithAck``, throws from ``fetchSockets`` and does nothing for the ``sockets*``
operations; siox applies every one of them across the children.
"""

from __future__ import annotations

import asyncio
import re

import siox
from rawpeer import RawWebSocket, running, ws_connect_sio


async def two_children(port: int) -> tuple[RawWebSocket, str, RawWebSocket, str]:
    a, sid_a = await ws_connect_sio(port, "40/room-a,")
    b, sid_b = await ws_connect_sio(port, "40/room-b,")
    return a, sid_a, b, sid_b


def dynamic_server() -> tuple[siox.Server, siox.Namespace]:
    sio = siox.Server()
    parent = sio.of(re.compile(r"/room-\w+"))

    @parent.on("connect")
    async def connect(socket: siox.Socket) -> None:
        if socket.nsp == "/room-a":
            await socket.join("vip")

    return sio, parent


async def test_parent_to_room_and_except_reach_the_children() -> None:
    sio, parent = dynamic_server()
    async with running(sio) as port:
        a, _, b, _ = await two_children(port)
        await parent.to("vip").emit("only-vip")
        await parent.except_("vip").emit("not-vip")
        assert await a.recv() == '42/room-a,["only-vip"]'
        assert await b.recv() == '42/room-b,["not-vip"]'


async def test_parent_emit_with_ack_collects_every_childs_replies() -> None:
    sio, parent = dynamic_server()
    async with running(sio) as port:
        a, sid_a, b, sid_b = await two_children(port)

        async def answer(peer: RawWebSocket, nsp: str, reply: str) -> None:
            message = await peer.recv()
            assert isinstance(message, str)
            ack_id = message[len(f"42{nsp},") : message.index("[")]
            await peer.send(f'43{nsp},{ack_id}["{reply}"]')

        answering = asyncio.gather(answer(a, "/room-a", "A"), answer(b, "/room-b", "B"))
        results = await parent.timeout(2).emit_with_ack("question")
        await answering
    assert sorted(results.replies) == ["A", "B"]
    assert results.by_socket == {sid_a: "A", sid_b: "B"}


async def test_parent_fetch_join_leave_and_disconnect_act_on_every_child() -> None:
    sio, parent = dynamic_server()
    async with running(sio) as port:
        a, sid_a, b, sid_b = await two_children(port)
        assert sorted(s.id for s in await parent.fetch_sockets()) == sorted([sid_a, sid_b])
        await parent.sockets_join("all")
        assert sorted(s.id for s in await parent.in_("all").fetch_sockets()) == sorted(
            [sid_a, sid_b]
        )
        await parent.sockets_leave("vip")
        assert await parent.in_("vip").fetch_sockets() == []
        await parent.disconnect_sockets()
        assert await a.recv() == "41/room-a,"
        assert await b.recv() == "41/room-b,"
        assert await parent.fetch_sockets() == []


async def test_a_rule_without_children_reaches_nobody() -> None:
    sio, parent = dynamic_server()
    async with running(sio):
        await parent.emit("nobody")
        results = await parent.timeout(0.1).emit_with_ack("nobody")
        assert results.replies == [] and results.missing == 0
        assert await parent.fetch_sockets() == []
