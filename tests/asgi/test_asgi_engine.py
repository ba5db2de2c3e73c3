"""siox.asgi at the Engine.IO level, under uvicorn and hypercorn, with raw HTTP clients.

The app is mounted under a FastAPI sub-path (``/rt``, so ``scope["root_path"]`` is set) or
served at the top level with the server's own ``root_path``; lifespan is on throughout.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from changing import until
from siox import EngineServer, Server
from siox.asgi import ASGIApp
from siox.server.engine_socket import EngineSocket

pytestmark = pytest.mark.parametrize("kind", ["uvicorn", "hypercorn"])

IO_TIMEOUT = 10.0
UPGRADE_HEADERS = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


def echo_engine() -> tuple[EngineServer, list[str]]:
    """A bare Engine.IO server echoing messages and logging disconnect reasons."""
    engine = EngineServer(ping_interval=25.0)
    reasons: list[str] = []

    @engine.on("message")
    async def message(session: EngineSocket, data: str | bytes) -> None:
        await session.send(data)

    @engine.on("disconnect")
    def disconnect(session: EngineSocket, reason: str) -> None:
        reasons.append(reason)

    return engine, reasons


def mounted(app: ASGIApp, events: list[str]) -> FastAPI:
    """``app`` under ``/rt`` of a FastAPI app whose lifespan shuts siox down."""

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        events.append("startup")
        yield
        await app.engine.shutdown(0.5)
        events.append("shutdown")

    api = FastAPI(lifespan=lifespan)

    @api.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    api.mount("/rt", app)
    return api


async def http(
    port: int,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes | list[bytes] = b"",
) -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection (closed by the server after the answer).

    A list body is sent chunked, one HTTP chunk per item, with a pause in between.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if "Upgrade" not in (headers or {}):
            lines.append("Connection: close")
        if isinstance(body, list):
            lines.append("Transfer-Encoding: chunked")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            for chunk in body:
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                await asyncio.sleep(0.05)
            writer.write(b"0\r\n\r\n")
        else:
            if body or method == "POST":
                lines.append(f"Content-Length: {len(body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        raw = await asyncio.wait_for(reader.read(), IO_TIMEOUT)
    finally:
        writer.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    answer = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        answer[name.strip().lower()] = value.strip()
    if answer.get("transfer-encoding") == "chunked":
        rest = dechunk(rest)
    return int(status_line.split()[1]), answer, rest


def dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_text, _, data = data.partition(b"\r\n")
        size = int(size_text, 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return out


async def handshake(port: int, prefix: str) -> str:
    status, _, body = await http(port, "GET", f"{prefix}/engine.io/?EIO=4&transport=polling")
    assert status == 200, body
    assert body.startswith(b"0")
    sid: str = json.loads(body[1:])["sid"]
    return sid


async def test_polling_round_trip_through_a_mounted_app(kind: str, serve_asgi: Any) -> None:
    engine, _ = echo_engine()
    events: list[str] = []
    async with serve_asgi(kind, mounted(ASGIApp(engine), events)) as port:
        sid = await handshake(port, "/rt")
        query = f"/rt/engine.io/?EIO=4&transport=polling&sid={sid}"
        chunks = [b"4first\x1e", b"4sec", b"ond"]
        status, _, body = await http(
            port, "POST", query, {"Content-Type": "text/plain;charset=UTF-8"}, chunks
        )
        assert (status, body) == (200, b"ok")
        status, _, body = await http(port, "GET", query)
        assert (status, body) == (200, b"4first\x1e4second")
        status, _, body = await http(port, "GET", "/hello")
        assert (status, json.loads(body)) == (200, {"hello": "world"})
    assert events == ["startup", "shutdown"]
    assert not engine.accepting
    assert engine.sessions == {}


async def test_websocket_with_unknown_sid_is_refused_with_the_engine_400(
    kind: str, serve_asgi: Any
) -> None:
    engine, _ = echo_engine()
    async with serve_asgi(kind, mounted(ASGIApp(engine), [])) as port:
        status, headers, body = await http(
            port,
            "GET",
            "/rt/engine.io/?EIO=4&transport=websocket&sid=nope",
            UPGRADE_HEADERS,
        )
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"code": 1, "message": "Session ID unknown"}


async def test_long_poll_whose_client_leaves_ends_the_session(kind: str, serve_asgi: Any) -> None:
    engine, reasons = echo_engine()
    async with serve_asgi(kind, mounted(ASGIApp(engine), [])) as port:
        sid = await handshake(port, "/rt")
        session = engine.sessions[sid]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /rt/engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\n\r\n".encode()
        )
        await writer.drain()
        await asyncio.sleep(0.3)  # the poll is now waiting inside handle_http
        assert sid in engine.sessions
        writer.close()
        await until(lambda: sid not in engine.sessions)
        assert session.closed
        assert reasons == ["transport error"]


async def test_top_level_app_uses_root_path_and_forwards_the_rest(
    kind: str, serve_asgi: Any, tmp_path: Path
) -> None:
    engine, _ = echo_engine()
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append(f"shutdown, siox accepting={engine.accepting}")

    async def other(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"other {request.url.path}")

    page = tmp_path / "index.html"
    page.write_text("<p>hi</p>")
    starlette = Starlette(routes=[Route("/other", other)], lifespan=lifespan)
    app = ASGIApp(engine, other_asgi_app=starlette, static_files={"/": page}, shutdown_timeout=0.5)
    async with serve_asgi(kind, app, root_path="/proxied") as port:
        await handshake(port, "")
        status, headers, body = await http(port, "GET", "/")
        assert (status, body) == (200, b"<p>hi</p>")
        assert headers["content-type"] == "text/html; charset=utf-8"
        status, _, body = await http(port, "GET", "/other")
        assert status == 200
        assert body.endswith(b"/other")  # hypercorn leaves root_path out of path
        status, _, _ = await http(port, "GET", "/missing")
        assert status == 404
    assert events == ["startup", "shutdown, siox accepting=False"]
    assert engine.sessions == {}


async def test_lone_app_answers_lifespan_and_404(kind: str, serve_asgi: Any) -> None:
    sio = Server()
    async with serve_asgi(kind, ASGIApp(sio, shutdown_timeout=0.5)) as port:
        status, _, body = await http(port, "GET", "/socket.io/?EIO=4&transport=polling")
        assert status == 200
        assert body.startswith(b"0{")
        status, _, _ = await http(port, "GET", "/elsewhere")
        assert status == 404
        status, _, _ = await http(port, "GET", "/elsewhere", UPGRADE_HEADERS)
        assert status == 403
    assert not sio.engine.accepting
