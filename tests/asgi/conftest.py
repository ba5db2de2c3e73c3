"""Fixtures for the ASGI front end: uvicorn and hypercorn run in-process on free ports.

`serve_asgi` is a factory: ``async with serve_asgi(kind, app, root_path="") as port: ...``
starts the named server (lifespan on) on 127.0.0.1 and stops it, bounded in time, on exit.
(No helper module: tests/ is on sys.path, fixtures keep the tests self-contained.)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

SERVERS = ("uvicorn", "hypercorn")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0

ServeAsgi = Callable[..., AbstractAsyncContextManager[int]]


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextlib.asynccontextmanager
async def _uvicorn(app: Any, root_path: str) -> AsyncIterator[int]:
    import uvicorn

    sock = _listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        http="h11",
        ws="wsproto",
        root_path=root_path,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before starting")
                await asyncio.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, STOP_TIMEOUT)
        finally:
            sock.close()


@contextlib.asynccontextmanager
async def _hypercorn(app: Any, root_path: str) -> AsyncIterator[int]:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    sock = _listening_socket()
    port = sock.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns the socket from here
    config.root_path = root_path
    config.loglevel = "WARNING"
    config.accesslog = None
    config.graceful_timeout = 2.0
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while True:  # the socket listens already; wait until hypercorn answers
                if task.done():
                    task.result()
                    raise RuntimeError("hypercorn stopped before starting")
                with contextlib.suppress(OSError):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.write(
                        b"GET /__siox_ready HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                    )
                    answered = await asyncio.wait_for(reader.read(12), 0.5)
                    writer.close()
                    if answered.startswith(b"HTTP/1.1"):
                        break
                await asyncio.sleep(0.05)
        yield port
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_TIMEOUT)


@pytest.fixture
def serve_asgi() -> ServeAsgi:
    def start(kind: str, app: Any, *, root_path: str = "") -> AbstractAsyncContextManager[int]:
        if kind == "uvicorn":
            return _uvicorn(app, root_path)
        if kind == "hypercorn":
            return _hypercorn(app, root_path)
        raise ValueError(kind)

    return start
