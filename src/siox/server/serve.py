"""`serve` and `run`: the native server's entry points (uvloop when installed, TLS optional)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import ssl as ssl_module
from collections.abc import Generator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from ..options import DEFAULT_SERVE_OPTIONS
from .engine_server import EngineServer
from .http_types import Router
from .native import HttpProtocol
from .static import StaticFiles

__all__ = ["Serving", "freeze_startup_objects", "run", "serve"]

logger = logging.getLogger("siox")


def _engine_of(app: Any) -> EngineServer:
    engine = getattr(app, "engine", app)
    if not isinstance(engine, EngineServer):
        raise TypeError("serve() takes a siox.Server or a siox.EngineServer")
    return engine


class Serving:
    """A running native server.

    It is an async context manager, and awaitable (serves until cancelled). ``port`` is the
    bound port (useful with ``port=0``).
    """

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        ssl: ssl_module.SSLContext | None,
        static_files: Mapping[str, str | Path] | None,
        shutdown_timeout: float,
        request_timeout: float = DEFAULT_SERVE_OPTIONS.request_timeout,
        keep_alive_timeout: float = DEFAULT_SERVE_OPTIONS.keep_alive_timeout,
    ) -> None:
        self.app = app
        self.engine = _engine_of(app)
        self.host = host
        self.port = port
        self.ssl = ssl
        self.static = StaticFiles(static_files) if static_files else None
        self.shutdown_timeout = shutdown_timeout
        self.request_timeout = request_timeout
        self.keep_alive_timeout = keep_alive_timeout
        self.server: asyncio.Server | None = None
        self.connections: set[HttpProtocol] = set()
        #: connections being adopted (handed over by another worker), kept until served
        self.adopting: set[asyncio.Task[Any]] = set()
        #: a listening socket to serve on instead of binding ``host:port`` (workers share one)
        self.sock: socket.socket | None = None
        #: who may take a connection for a session held elsewhere (workers), or None
        self.router: Router | None = None

    def _protocol(self, preface: bytes = b"") -> HttpProtocol:
        protocol = HttpProtocol(
            self.engine,
            self.static,
            self.connections.discard,
            self.request_timeout,
            self.keep_alive_timeout,
            self.router,
            preface,
        )
        self.connections.add(protocol)
        return protocol

    def adopt(self, sock: socket.socket, preface: bytes) -> None:
        """Serve a connection accepted elsewhere, whose first bytes were ``preface``."""
        loop = asyncio.get_running_loop()
        task = loop.create_task(loop.connect_accepted_socket(lambda: self._protocol(preface), sock))
        self.adopting.add(task)

        def done(task: asyncio.Task[Any]) -> None:
            self.adopting.discard(task)
            if task.cancelled() or task.exception() is not None:
                sock.close()

        task.add_done_callback(done)

    async def start(self) -> Serving:
        """Bind and start accepting."""
        loop = asyncio.get_running_loop()
        self.engine.start_accepting()  # served again after a shutdown (issue 11 item 5)

        if self.sock is not None:
            self.server = await loop.create_server(
                self._protocol, sock=self.sock, ssl=self.ssl, backlog=2048
            )
        else:
            self.server = await loop.create_server(
                self._protocol, self.host, self.port, ssl=self.ssl, backlog=2048, reuse_address=True
            )
        sockets = self.server.sockets
        if sockets:
            self.port = sockets[0].getsockname()[1]
        logger.info("siox serving on %s:%s", self.host, self.port)
        return self

    async def close(self) -> None:
        """Graceful shutdown: stop accepting, tell clients to go, drain, then close."""
        if self.server is None:
            return
        server, self.server = self.server, None
        server.close()
        # The app's own shutdown: a siox.Server also closes its adapters (cluster unsubscribes).
        await self.app.shutdown(self.shutdown_timeout)
        for protocol in list(self.connections):
            if protocol.transport is not None:
                protocol.transport.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)

    async def __aenter__(self) -> Serving:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _forever(self) -> None:
        async with self:
            await asyncio.Event().wait()

    def __await__(self) -> Generator[Any, None, None]:
        return self._forever().__await__()


def serve(
    app: Any,
    *,
    host: str = DEFAULT_SERVE_OPTIONS.host,
    port: int = DEFAULT_SERVE_OPTIONS.port,
    ssl: ssl_module.SSLContext | None = None,
    static_files: Mapping[str, str | Path] | None = None,
    shutdown_timeout: float = DEFAULT_SERVE_OPTIONS.shutdown_timeout,
    request_timeout: float = DEFAULT_SERVE_OPTIONS.request_timeout,
    keep_alive_timeout: float = DEFAULT_SERVE_OPTIONS.keep_alive_timeout,
) -> Serving:
    """Serve ``app`` (a `siox.Server` or `siox.EngineServer`) with the native server.

    ``async with siox.serve(app, port=0) as serving: ...`` runs it for the block;
    ``await siox.serve(app)`` runs it until cancelled. ``static_files`` maps URL paths to
    files to serve next to the endpoint (a demo page, say). ``request_timeout`` bounds how
    long one HTTP request may take to arrive (slow clients get 408), and how long a new
    connection may stay silent; ``keep_alive_timeout`` how long a kept-alive connection may
    stay idle between requests (seconds).
    """
    return Serving(
        app,
        host,
        port,
        ssl,
        static_files,
        shutdown_timeout,
        request_timeout,
        keep_alive_timeout,
    )


def freeze_startup_objects() -> None:
    """Move every object alive now out of the garbage collector's sight (`gc.freeze`).

    For a process that serves from here on (`run`, a worker): its modules, classes, functions
    and application objects live as long as it does, and a full collection would visit them
    all each time, a connect storm's included. Objects frozen are never collected: the
    garbage made so far is collected first.
    """
    gc.collect()
    gc.freeze()


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run(
    app: Any,
    *,
    host: str = DEFAULT_SERVE_OPTIONS.host,
    port: int = DEFAULT_SERVE_OPTIONS.port,
    ssl: ssl_module.SSLContext | None = None,
    static_files: Mapping[str, str | Path] | None = None,
    use_uvloop: bool = True,
) -> None:
    """Serve ``app`` until SIGINT/SIGTERM, then shut down gracefully (blocking)."""
    if use_uvloop:
        _use_uvloop()

    async def main() -> None:
        serving = await serve(app, host=host, port=port, ssl=ssl, static_files=static_files).start()
        freeze_startup_objects()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            await serving.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
