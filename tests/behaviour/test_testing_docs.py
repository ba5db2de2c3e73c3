"""The example of docs/testing.md, as it is written there."""

from __future__ import annotations

import siox
from siox.testing import TestServer

sio = siox.Server(connection_state_recovery=True)


@sio.on("join")
async def join(socket: siox.Socket, room: str) -> str:
    await socket.join(room)
    return "joined"


async def test_join_and_broadcast() -> None:
    async with TestServer(sio) as server:
        alice = await server.connect(auth={"name": "alice"})
        bob = await server.connect()
        assert await alice.emit_with_ack("join", "lobby") == "joined"
        await sio.to("lobby").emit("news", 1)
        assert await alice.wait_for("news") == (1, alice.last_offset)
        await server.settle()
        assert bob.events("news") == []


async def test_the_docs_show_this_example() -> None:
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "testing.md").read_text()
    assert 'assert await alice.emit_with_ack("join", "lobby") == "joined"' in docs
