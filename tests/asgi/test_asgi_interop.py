"""The real socket.io-client@4 (Node) against siox.asgi under uvicorn and hypercorn.

Each run drives sio_client.js: websocket-only, polling-only and polling -> websocket clients,
each echoing with acks, sending binary, receiving a room broadcast and a 300-message flood,
then disconnected by the server (one) and by themselves (the other).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

import siox
from siox.asgi import ASGIApp

HERE = Path(__file__).parent
NODE_MODULES = HERE.parent / "node" / "node_modules"
CLIENT = HERE / "sio_client.js"
NODE_TIMEOUT = 60.0
MODES = ("websocket", "polling", "upgrade")

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js"),
]


def chat_server() -> tuple[siox.Server, list[tuple[str, str]]]:
    """The Socket.IO server the scenarios talk to; returns it and its disconnect log."""
    sio = siox.Server()
    left: list[tuple[str, str]] = []

    @sio.on("connect")
    async def connect(socket: siox.Socket, auth: dict[str, Any]) -> None:
        socket.data["room"] = room = str(auth["room"])
        await socket.join(room)

    @sio.on("echo")
    async def echo(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @sio.on("shout")
    async def shout(socket: siox.Socket, text: str) -> bool:
        await sio.to(socket.data["room"]).emit("news", text, socket.data["room"])
        return True

    @sio.on("flood")
    async def flood(socket: siox.Socket, count: int, size: int) -> int:
        for index in range(count):
            await socket.emit("flood", index, "x" * size)
        return count

    @sio.on("kick")
    async def kick(socket: siox.Socket) -> None:
        await socket.disconnect()

    @sio.on("disconnect")
    async def disconnect(socket: siox.Socket, reason: str) -> None:
        left.append((socket.data["room"], reason))

    return sio, left


def under_fastapi(app: ASGIApp) -> FastAPI:
    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        yield
        await app.engine.shutdown(1.0)

    api = FastAPI(lifespan=lifespan)
    api.mount("/rt", app)
    return api


async def run_client(url: str, path: str) -> list[dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(CLIENT),
        json.dumps({"url": url, "path": path}),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), NODE_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    results: list[dict[str, Any]] = json.loads(out)
    return results


def check(results: list[dict[str, Any]], left: list[tuple[str, str]]) -> None:
    by_mode = {result["mode"]: result for result in results}
    assert sorted(by_mode) == sorted(MODES)
    expected_transport = {"websocket": "websocket", "polling": "polling", "upgrade": "websocket"}
    for mode, result in by_mode.items():
        assert result["transports"] == [expected_transport[mode]] * 2, mode
        assert result["echo"] == ["héllo ☃", {"n": 1, "list": [1, "two", None, True]}]
        assert result["binary"] == [
            {"$bytes": [0, 1, 2, 255]},
            {"nested": {"$bytes": list(b"xyz")}},
        ]
        assert result["news"] == [[f"hello {mode}", mode]] * 2
        assert result["flood_ack"] == [300]
        assert result["flood_in_order"] is True
        assert result["kicked"][0] == "io server disconnect"
        assert result["left"][0] == "io client disconnect"
    assert sorted(left) == sorted(
        (mode, reason)
        for mode in MODES
        for reason in ("server namespace disconnect", "client namespace disconnect")
    )


@pytest.mark.parametrize("kind", ["uvicorn", "hypercorn"])
async def test_socketio_client_under_a_fastapi_sub_path(kind: str, serve_asgi: Any) -> None:
    sio, left = chat_server()
    async with serve_asgi(kind, under_fastapi(ASGIApp(sio))) as port:
        results = await run_client(f"http://127.0.0.1:{port}", "/rt/socket.io")
        await asyncio.sleep(0.2)  # the last disconnect handlers
        check(results, left)
    assert sio.engine.sessions == {}


@pytest.mark.parametrize("kind", ["uvicorn", "hypercorn"])
async def test_socketio_client_at_top_level_with_lifespan(kind: str, serve_asgi: Any) -> None:
    sio, left = chat_server()
    app = ASGIApp(sio, other_asgi_app=FastAPI(), shutdown_timeout=1.0)
    async with serve_asgi(kind, app, root_path="/behind-proxy") as port:
        results = await run_client(f"http://127.0.0.1:{port}", "/socket.io")
        await asyncio.sleep(0.2)
        check(results, left)
    assert not sio.engine.accepting
    assert sio.engine.sessions == {}
