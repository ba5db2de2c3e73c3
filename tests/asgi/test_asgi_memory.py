"""siox.asgi driven directly, with an in-memory ASGI peer (no server, no sockets)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from siox import EngineServer
from siox.asgi import ASGIApp
from siox.server.engine_socket import EngineSocket

TIMEOUT = 5.0


class Peer:
    """The server side of one ASGI call: messages in, messages out, sends gated on demand."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.open = asyncio.Event()
        self.open.set()
        self.changed = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send(self, message: Any) -> None:
        await self.open.wait()
        self.sent.append(dict(message))
        self.changed.set()

    async def wait_sent(self, count: int) -> None:
        async with asyncio.timeout(TIMEOUT):
            while len(self.sent) < count:
                self.changed.clear()
                await self.changed.wait()


def ws_scope(query: str, *, extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": "/engine.io/",
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"t"), (b"upgrade", b"websocket")],
        "client": ("127.0.0.1", 5000),
        "scheme": "ws",
        "extensions": extensions or {},
    }


def http_scope(method: str, query: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": "/engine.io/",
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"t"), (b"content-type", b"text/plain;charset=UTF-8")],
        "client": ("127.0.0.1", 5000),
        "scheme": "http",
    }


def texts(peer: Peer) -> list[str]:
    return [m["text"] for m in peer.sent if m["type"] == "websocket.send" and "text" in m]


async def open_websocket(
    app: ASGIApp, engine: EngineServer
) -> tuple[Peer, asyncio.Task[None], EngineSocket]:
    peer = Peer()
    peer.inbox.put_nowait({"type": "websocket.connect"})
    call = asyncio.create_task(app(ws_scope("EIO=4&transport=websocket"), peer.receive, peer.send))
    await peer.wait_sent(2)
    assert peer.sent[0] == {"type": "websocket.accept"}
    assert texts(peer)[0].startswith("0{")
    (session,) = engine.sessions.values()
    return peer, call, session


async def test_websocket_echo_then_client_disconnect_closes_the_session() -> None:
    engine = EngineServer()
    reasons: list[str] = []
    engine.on("message", lambda session, data: session.write([data]))
    engine.on("disconnect", lambda session, reason: reasons.append(reason))
    peer, call, _ = await open_websocket(ASGIApp(engine), engine)
    peer.inbox.put_nowait({"type": "websocket.receive", "text": "4hi", "bytes": None})
    peer.inbox.put_nowait({"type": "websocket.receive", "bytes": b"\x01\x02"})
    await peer.wait_sent(4)
    assert peer.sent[2:] == [
        {"type": "websocket.send", "text": "4hi"},
        {"type": "websocket.send", "bytes": b"\x01\x02"},
    ]
    peer.inbox.put_nowait({"type": "websocket.disconnect", "code": 1001})
    await asyncio.wait_for(call, TIMEOUT)
    assert engine.sessions == {}
    assert reasons == ["transport close"]


async def test_engine_close_sends_queued_messages_then_close_and_returns() -> None:
    engine = EngineServer()
    peer, call, session = await open_websocket(ASGIApp(engine), engine)
    session.write(["last"])
    session.close()
    await asyncio.wait_for(call, TIMEOUT)  # no websocket.disconnect needed
    assert texts(peer)[1:] == ["4last"]  # over WebSocket, no close packet: the reference's way
    assert peer.sent[-1] == {"type": "websocket.close", "code": 1000}


async def test_slow_reader_pauses_the_session_and_gets_everything_in_order() -> None:
    engine = EngineServer(max_buffer_size=200_000)
    peer, call, session = await open_websocket(ASGIApp(engine), engine)
    peer.open.clear()  # the client stops reading
    for index in range(150):
        session.write([f"{index:04d}" + "x" * 996])  # 150 KB: over the queue's watermark
    await asyncio.sleep(0.05)
    assert not session.closed
    peer.open.set()
    await peer.wait_sent(152)
    assert [text[1:5] for text in texts(peer)[1:]] == [f"{i:04d}" for i in range(150)]
    peer.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(call, TIMEOUT)


async def test_reader_that_never_drains_is_dropped_at_max_buffer_size() -> None:
    engine = EngineServer(max_buffer_size=200_000)
    reasons: list[str] = []
    engine.on("disconnect", lambda session, reason: reasons.append(reason))
    peer, call, session = await open_websocket(ASGIApp(engine), engine)
    peer.open.clear()
    for _ in range(400):  # 400 KB: the writer queue stays bounded, the session overflows
        session.write(["y" * 1000])
    assert session.closed
    assert len(reasons) == 1
    peer.open.set()
    peer.inbox.put_nowait({"type": "websocket.disconnect", "code": 1006})
    await asyncio.wait_for(call, TIMEOUT)
    assert len(texts(peer)) < 150


async def test_refused_websocket_without_the_response_extension_is_closed() -> None:
    app = ASGIApp(EngineServer())
    peer = Peer()
    peer.inbox.put_nowait({"type": "websocket.connect"})
    await app(ws_scope("EIO=4&transport=websocket&sid=unknown"), peer.receive, peer.send)
    assert peer.sent == [{"type": "websocket.close", "code": 1008}]


async def test_refused_websocket_with_the_response_extension_gets_the_400() -> None:
    app = ASGIApp(EngineServer())
    peer = Peer()
    peer.inbox.put_nowait({"type": "websocket.connect"})
    scope = ws_scope("EIO=4&transport=websocket&sid=x", extensions={"websocket.http.response": {}})
    await app(scope, peer.receive, peer.send)
    start, body = peer.sent
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 400
    assert (b"content-type", b"application/json") in start["headers"]
    assert json.loads(body["body"]) == {"code": 1, "message": "Session ID unknown"}


async def test_post_whose_client_leaves_mid_body_ends_the_session() -> None:
    engine = EngineServer()
    reasons: list[str] = []
    engine.on("disconnect", lambda session, reason: reasons.append(reason))
    app = ASGIApp(engine)
    peer = Peer()
    peer.inbox.put_nowait({"type": "http.request", "body": b"", "more_body": False})
    await app(http_scope("GET", "EIO=4&transport=polling"), peer.receive, peer.send)
    (sid,) = engine.sessions
    post = Peer()
    post.inbox.put_nowait({"type": "http.request", "body": b"4par", "more_body": True})
    post.inbox.put_nowait({"type": "http.disconnect"})
    await app(http_scope("POST", f"EIO=4&transport=polling&sid={sid}"), post.receive, post.send)
    assert post.sent == []
    assert engine.sessions == {}
    assert reasons == ["transport error"]


async def test_lifespan_without_other_app_shuts_the_engine_down() -> None:
    engine = EngineServer()
    app = ASGIApp(engine, shutdown_timeout=0.1)
    peer = Peer()
    peer.inbox.put_nowait({"type": "lifespan.startup"})
    peer.inbox.put_nowait({"type": "lifespan.shutdown"})
    await asyncio.wait_for(app({"type": "lifespan"}, peer.receive, peer.send), TIMEOUT)
    assert peer.sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]
    assert not engine.accepting


def test_app_must_be_a_siox_server() -> None:
    with pytest.raises(TypeError):
        ASGIApp(object())
