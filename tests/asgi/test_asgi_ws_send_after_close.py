"""Finding: under an ASGI server, a normal race was logged as an error (issue 14).

When uvicorn closes a WebSocket itself (1011 after its own keepalive ping timeout), a message
siox was about to send meets ``RuntimeError: Unexpected ASGI message 'websocket.send', after
sending 'websocket.close'``; siox logged a traceback per connection. The race is now a debug
line, and the session still ends as a closed transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn

import siox
from rawpeer import ws_connect_sio


@contextlib.asynccontextmanager
async def _uvicorn_with_ws_pings(app: siox.ASGIApp) -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        http="h11",
        ws="wsproto",
        ws_ping_interval=0.1,
        ws_ping_timeout=0.1,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn has no started event)
                await asyncio.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


async def test_asgi_websocket_send_after_the_server_closed_it_is_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sio = siox.Server()
    closed: list[str] = []

    @sio.on("disconnect")
    async def gone(socket: siox.Socket, reason: str) -> None:
        closed.append(reason)

    async def ticking() -> None:
        while True:
            await sio.emit("tick", "x" * 100)
            await asyncio.sleep(0.002)

    caplog.set_level(logging.DEBUG, logger="siox")
    async with _uvicorn_with_ws_pings(siox.ASGIApp(sio)) as port:
        ticker = asyncio.create_task(ticking())
        try:
            peers = [await ws_connect_sio(port) for _ in range(20)]
            # The peers never read again: uvicorn's pings go unanswered and it closes them
            # (1011) while siox keeps sending ticks.
            async with asyncio.timeout(10):
                while len(closed) < len(peers):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        finally:
            ticker.cancel()
            for peer, _ in peers:
                peer.writer.close()
    assert closed == ["transport close"] * len(peers)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


class _ServerThatClosed:
    """An ASGI server's WebSocket side that closed on its own after ``allowed`` sends.

    It answers later sends as uvicorn does in that window (RuntimeError), then reports the
    disconnect to the app's ``receive``.
    """

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed
        self.inbox: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.sent: list[dict[str, object]] = []

    async def receive(self) -> dict[str, object]:
        return await self.inbox.get()

    async def send(self, message: dict[str, object]) -> None:
        if message["type"] == "websocket.send" and self.allowed <= 0:
            self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1011})
            raise RuntimeError(
                "Unexpected ASGI message 'websocket.send', after sending 'websocket.close'."
            )
        if message["type"] == "websocket.send":
            self.allowed -= 1
        self.sent.append(message)


async def test_asgi_websocket_send_refused_after_close_ends_the_session_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sio = siox.Server()
    reasons: list[str] = []

    @sio.on("connect")
    async def connected(socket: siox.Socket) -> None:
        await socket.emit("hello")  # the server refuses this one: it closed meanwhile

    @sio.on("disconnect")
    async def gone(socket: siox.Socket, reason: str) -> None:
        reasons.append(reason)

    app = siox.ASGIApp(sio)
    server = _ServerThatClosed(allowed=2)  # the open packet and the CONNECT answer
    scope = {
        "type": "websocket",
        "path": "/socket.io/",
        "query_string": b"EIO=4&transport=websocket",
        "headers": [(b"host", b"t")],
        "client": ("127.0.0.1", 1),
    }
    caplog.set_level(logging.DEBUG, logger="siox")
    call = asyncio.create_task(app(scope, server.receive, server.send))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    server.inbox.put_nowait({"type": "websocket.receive", "text": "40"})
    await asyncio.wait_for(call, 5)
    await asyncio.sleep(0.05)
    assert [m["type"] for m in server.sent] == ["websocket.accept"] + ["websocket.send"] * 2
    assert reasons == ["transport close"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("already closed" in r.getMessage() for r in caplog.records)
    await sio.shutdown(1)
