"""siox's client with ``protocol=4`` against the real npm socket.io@2 server (2.5.1).

The server is tests/node/v2_server.js, started per test on a free port and stopped by its
process handle. Covered: each transport choice (polling, WebSocket, polling -> WebSocket), ids
derived from the Engine.IO sid, acks both ways with text, astral characters and binary, a
binary event, another namespace, a namespace refused by middleware, rooms and broadcasts
between two siox clients, and a server-side disconnect.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

import siox
from legacy.node_run import NODE_DIR, NODE_MODULES, needs_node

pytestmark = [pytest.mark.interop, needs_node]

WAIT = 5.0
TRANSPORTS = {
    "polling": ("polling",),
    "websocket": ("websocket",),
    "upgrade": ("polling", "websocket"),
}


@pytest.fixture
async def v2_server() -> AsyncIterator[str]:
    """A running socket.io 2.5.1 server; yields its URL."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_DIR / "v2_server.js"),
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=NODE_DIR,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 10.0)
        port = json.loads(line)["listening"]["port"]
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 3.0)
            except TimeoutError:
                process.kill()
                await process.wait()


def v2_client(url: str, transports: tuple[str, ...], **options: Any) -> siox.Client:
    return siox.Client(
        url, protocol=4, reconnection=False, transports=transports, timeout=WAIT, **options
    )


@pytest.mark.parametrize("mode", list(TRANSPORTS))
async def test_siox_client_talks_to_a_socketio_2_server(v2_server: str, mode: str) -> None:
    client = v2_client(v2_server, TRANSPORTS[mode])
    socket = client.socket("/")
    questions: list[Any] = []

    @socket.on("question")
    async def question(*args: Any) -> tuple[Any, ...]:
        questions.append(args)
        return ("answer", b"\x09\x08")

    try:
        await socket.connect(timeout=WAIT)
        # "/" of a protocol-4 session: the socket id is the Engine.IO sid (no CONNECT sent).
        assert socket.id is not None and socket.id == client.sid
        assert await socket.emit_with_ack("whoami", timeout=WAIT) == {
            "id": socket.id,
            "nsp": "/",
            "token": None,
        }
        text = ("héllo ☃", "astral 😀𝄞", {"n": 1, "list": [1, "two", None, True]})
        assert await socket.emit_with_ack("echo", *text, timeout=WAIT) == text
        binary = (b"\x00\x01\x02\xff", {"nested": b"xyz"})
        assert await socket.emit_with_ack("echo", *binary, timeout=WAIT) == binary
        reply = await socket.emit_with_ack("ask", "question", "q1", b"\x01", timeout=WAIT)
        assert reply == ("answer", b"\x09\x08")
        assert questions == [("q1", b"\x01")]
        waiting = asyncio.ensure_future(socket.wait_for("bin", timeout=WAIT))
        await asyncio.sleep(0)
        await socket.emit("send-binary")
        assert await waiting == (b"\x00\x01\xff", {"nested": b"xyz"})

        chat = client.socket("/chat")
        await chat.connect(timeout=WAIT)
        assert chat.id == f"/chat#{socket.id}"
        assert (await chat.emit_with_ack("whoami", timeout=WAIT))["nsp"] == "/chat"
        assert await chat.emit_with_ack("echo", b"\xaa", timeout=WAIT) == b"\xaa"
        final = TRANSPORTS[mode][-1]
        for _ in range(250):
            if client.transport == final:
                break
            await asyncio.sleep(0.02)
        assert client.transport == final
        assert await socket.emit_with_ack("echo", b"\xbb", timeout=WAIT) == b"\xbb"
    finally:
        await client.close()


async def test_a_namespace_refused_by_a_socketio_2_middleware(v2_server: str) -> None:
    client = v2_client(v2_server, ("websocket",))
    try:
        private = client.socket("/private")
        with pytest.raises(siox.ConnectionRefused) as refused:
            await private.connect(timeout=WAIT)
        # socket.io 2.x sends `err.data || err.message`: here the data object.
        assert refused.value.data == {"reason": "bad token"}
    finally:
        await client.close()
    # The handshake query reaches every namespace's handshake in socket.io 2.x.
    client = v2_client(v2_server, ("websocket",), query={"token": "secret"})
    try:
        private = client.socket("/private")
        await private.connect(timeout=WAIT)
        assert (await private.emit_with_ack("whoami", timeout=WAIT))["token"] == "secret"
    finally:
        await client.close()


@pytest.mark.parametrize("mode", ["polling", "websocket"])
async def test_item2_protocol_4_auth_goes_as_the_namespace_query(v2_server: str, mode: str) -> None:
    # socket.io-client 2.x sends a namespace's credentials as its query ("0/private?token=
    # secret"); socket.io 2.x merges it into that socket's handshake.query.
    client = v2_client(v2_server, TRANSPORTS[mode])
    try:
        private = client.socket("/private", auth={"token": "secret", "extra": "a b&c"})
        await private.connect(timeout=WAIT)
        assert (await private.emit_with_ack("whoami", timeout=WAIT))["token"] == "secret"
        chat = client.socket("/chat", auth={"token": "x"})
        await chat.connect(timeout=WAIT)  # another namespace with its own query
        assert (await chat.emit_with_ack("whoami", timeout=WAIT))["token"] == "x"
    finally:
        await client.close()


async def test_rooms_broadcasts_and_server_disconnect(v2_server: str) -> None:
    first = v2_client(v2_server, ("polling",))
    second = v2_client(v2_server, ("websocket",))
    try:
        sockets = [first.socket("/"), second.socket("/")]
        news: list[list[Any]] = [[], []]
        gone: list[str] = []
        for index, socket in enumerate(sockets):
            socket.on("news", lambda *args, index=index: news[index].append(args))
            socket.on("disconnect", lambda reason, *_: gone.append(reason))
            await socket.connect(timeout=WAIT)
            assert await socket.emit_with_ack("join", "room1", timeout=WAIT) == ["room1"]
        assert await sockets[0].emit_with_ack("shout", "room1", "hi", b"\x01", timeout=WAIT)
        for _ in range(250):
            if all(news):
                break
            await asyncio.sleep(0.02)
        assert news == [[("hi", b"\x01")], [("hi", b"\x01")]]
        await sockets[1].emit("kick")
        for _ in range(250):
            if gone:
                break
            await asyncio.sleep(0.02)
        assert gone == ["io server disconnect"]
        assert not sockets[1].connected and sockets[0].connected
    finally:
        await first.close()
        await second.close()
