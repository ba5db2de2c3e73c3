"""`ASGIApp`: serve a `siox.Server` or `siox.EngineServer` from any ASGI 3 server.

The engine path is matched below ``scope["root_path"]`` (top level or mounted in a framework).
A long-polling GET runs `EngineServer.handle_http` while a watcher task waits for
``http.disconnect`` and cancels the poll (the engine reads that as the client leaving); a POST
body is pulled by the engine chunk by chunk. A WebSocket has one reader loop (the ASGI call)
feeding the engine's `WebSocketHandle` and one writer task sending, in order, what the engine
queued; the queue's watermarks pause and resume the session's writing.

(Over the 400-line soft cap: HTTP, WebSocket and lifespan of one ASGI application, each a small
part of the same front end.)
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._asgi_types import ASGICallable, Message, Receive, Scope, Send
from .errors import ProtocolError
from .options import DEFAULT_SERVE_OPTIONS
from .server.engine_server import EngineServer
from .server.engine_socket import WebSocketHandle
from .server.http_types import HttpRequest, HttpResponse
from .server.static import StaticFiles
from .server.stop_signals import StopSignals

__all__ = ["ASGIApp"]

logger = logging.getLogger("siox")

# Writer queue watermarks (bytes, str lengths counted as characters): above the high one the
# session stops writing to this WebSocket, below the low one it resumes.
_HIGH_WATER = 64 * 1024
_LOW_WATER = 16 * 1024
_MESSAGE_COST = 32  # added per queued message, so a flood of tiny ones is bounded too

_NOT_FOUND = HttpResponse(404, [("Content-Type", "text/plain; charset=utf-8")], b"Not Found")


def _engine_of(app: Any) -> EngineServer:
    engine = getattr(app, "engine", app)
    if not isinstance(engine, EngineServer):
        raise TypeError("ASGIApp() takes a siox.Server or a siox.EngineServer")
    return engine


def _route_path(scope: Scope) -> str:
    """The request path below ``root_path`` (ASGI servers and Starlette mounts put it in both)."""
    path: str = scope["path"]
    root: str = scope.get("root_path") or ""
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :] or "/"
    return path


def _request(scope: Scope, path: str) -> HttpRequest:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers") or ():
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        previous = headers.get(name)
        headers[name] = value if previous is None else previous + ", " + value
    client = scope.get("client")
    return HttpRequest(
        scope.get("method", "GET"),
        path,
        (scope.get("query_string") or b"").decode("latin-1"),
        headers,
        str(client[0]) if client else "",
        scope.get("scheme") in ("https", "wss"),
    )


def _raw_headers(response: HttpResponse) -> list[tuple[bytes, bytes]]:
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers
    ]
    if not any(name == b"content-length" for name, _ in headers):
        headers.append((b"content-length", str(len(response.body)).encode("ascii")))
    return headers


def _start(kind: str, response: HttpResponse) -> Message:
    return {"type": kind, "status": response.status, "headers": _raw_headers(response)}


async def _send_response(send: Send, response: HttpResponse, *, head: bool = False) -> None:
    await send(_start("http.response.start", response))
    await send({"type": "http.response.body", "body": b"" if head else response.body})


class _Body:
    """A request body the engine pulls through `HttpRequest.receive`."""

    __slots__ = ("gone", "more", "receive")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.more = True
        self.gone = False

    async def read(self) -> bytes | None:
        while self.more:
            message = await self.receive()
            kind = message["type"]
            if kind == "http.request":
                self.more = bool(message.get("more_body", False))
                chunk = message.get("body")
                if chunk:
                    return bytes(chunk)
            elif kind == "http.disconnect":
                self.more = False
                self.gone = True
                # What the engine expects when the client goes away mid-request.
                raise asyncio.CancelledError
        return None


async def _wait_for_disconnect(receive: Receive, stop: asyncio.Timeout) -> None:
    """Watch a long poll's ``receive`` channel; expire ``stop`` when the client is gone."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            stop.reschedule(asyncio.get_running_loop().time())
            return


class _Channel:
    """The engine's `WebSocketChannel` on an ASGI WebSocket: a queue, one writer task."""

    __slots__ = (
        "_close_code",
        "_paused",
        "_queue",
        "_queued",
        "_send",
        "_stopped",
        "_waiter",
        "handle",
        "on_writer_done",
    )

    supports_framed = False

    def __init__(self, send: Send) -> None:
        self._send = send
        self._queue: deque[str | bytes] = deque()
        self._queued = 0
        self._waiter: asyncio.Future[None] | None = None
        self._close_code: int | None = None
        self._paused = False
        self._stopped = False
        self.handle: WebSocketHandle | None = None
        self.on_writer_done: Callable[[], None] | None = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def send(self, data: str | bytes, compress: bool = True) -> None:
        """Queue one message for the writer (the engine's synchronous ``send``).

        ``compress`` cannot be honoured here: the ASGI server owns the WebSocket's extensions.
        """
        if self._close_code is not None or self._stopped:
            return
        self._queue.append(data)
        self._queued += len(data) + _MESSAGE_COST
        self._wake()
        if self._queued > _HIGH_WATER and not self._paused and self.handle is not None:
            self._paused = True
            self.handle.pause_writing()

    def send_framed(self, data: bytes) -> bool:
        """ASGI servers frame messages themselves: never possible here."""
        return False

    def close(self, code: int = 1000) -> None:
        """Close the WebSocket once the messages already queued are sent."""
        if self._close_code is None:
            self._close_code = code
            self._wake()

    async def write(self) -> None:
        """The writer task: send the queued messages in order, then the close, if any."""
        send = self._send
        queue = self._queue
        loop = asyncio.get_running_loop()
        try:
            while True:
                while queue:
                    data = queue.popleft()
                    self._queued -= len(data) + _MESSAGE_COST
                    if type(data) is str:
                        await send({"type": "websocket.send", "text": data})
                    else:
                        await send({"type": "websocket.send", "bytes": data})
                    if self._paused and self._queued <= _LOW_WATER:
                        self._paused = False
                        if self.handle is not None:
                            self.handle.resume_writing()
                if self._close_code is not None:
                    await send({"type": "websocket.close", "code": self._close_code})
                    return
                self._waiter = loop.create_future()
                await self._waiter
        except OSError:
            logger.debug("WebSocket send failed: the client is gone")
        except RuntimeError as error:
            # The ASGI server closed this WebSocket itself (uvicorn: 1011 after its keepalive
            # ping timeout) just before this send: a race that ends the session like an EOF.
            logger.debug("WebSocket send failed: the ASGI server already closed it (%s)", error)
        except Exception:
            logger.exception("error sending on an ASGI WebSocket")
        finally:
            self._stopped = True
            queue.clear()
            done = self.on_writer_done
            if done is not None:
                done()


class ASGIApp:
    """An ASGI 3 application serving a siox server.

    Args:
        app: a `siox.Server` (its ``engine`` is served) or a `siox.EngineServer`.
        other_asgi_app: the ASGI app that gets every other request (and the lifespan events,
            after siox has shut down on ``lifespan.shutdown``); None answers 404.
        static_files: URL path (below ``root_path``) -> file, served on GET/HEAD before
            ``other_asgi_app``; read once, at construction.
        shutdown_timeout: seconds ``lifespan.shutdown`` waits for sessions to close (10).
        shutdown_on_signal: start siox's shutdown as soon as the process gets SIGTERM or SIGINT
            (the ASGI server's own handler is chained, not replaced), so pending long-polls are
            answered with the close packet while the server drains instead of holding its
            shutdown until the next ping. Installed at ``lifespan.startup``, in the main thread,
            only over a handler the ASGI server installed; removed at ``lifespan.shutdown``.

    Under an ASGI server the WebSocket framing, its size limit and permessage-deflate are the
    server's (uvicorn ``ws_max_size``, hypercorn ``websocket_max_message_size``); the engine
    still enforces ``max_http_buffer_size`` on every message it is handed. When this app is
    mounted inside a framework that does not forward lifespan events (a Starlette ``Mount``),
    call ``await sio.shutdown()`` from the framework's own lifespan instead.
    """

    def __init__(
        self,
        app: Any,
        *,
        other_asgi_app: ASGICallable | None = None,
        static_files: Mapping[str, str | Path] | None = None,
        shutdown_timeout: float = DEFAULT_SERVE_OPTIONS.shutdown_timeout,
        shutdown_on_signal: bool = True,
    ) -> None:
        self.app = app
        self.engine = _engine_of(app)
        self.other_asgi_app = other_asgi_app
        self.static = StaticFiles(static_files) if static_files else None
        self.shutdown_timeout = shutdown_timeout
        self._signals = StopSignals(self._stop_signalled) if shutdown_on_signal else None
        self._stopping: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI 3 entry point."""
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        elif self.other_asgi_app is not None:
            await self.other_asgi_app(scope, receive, send)

    # -- HTTP -------------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _route_path(scope)
        if self.engine.handles(path):
            response = await self._engine_http(scope, receive, path)
            if response is not None:
                await _send_response(send, response)
            return
        bundle = self.engine.client_bundle
        if bundle is not None and (answer := bundle.lookup(_request(scope, path))) is not None:
            await _send_response(send, answer)  # a HEAD's answer has no body already
            return
        method = scope.get("method", "GET")
        if self.static is not None and method in ("GET", "HEAD"):
            found = self.static.lookup(path)
            if found is not None:
                await _send_response(send, found, head=method == "HEAD")
                return
        if self.other_asgi_app is not None:
            await self.other_asgi_app(scope, receive, send)
        else:
            await _send_response(send, _NOT_FOUND)

    async def _engine_http(self, scope: Scope, receive: Receive, path: str) -> HttpResponse | None:
        """The engine's answer, or None when the client went away before it was ready."""
        request = _request(scope, path)
        if request.method == "GET":
            return await self._long_poll(request, receive)
        body = _Body(receive)
        request.receive = body.read
        try:
            return await self.engine.handle_http(request)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if body.gone and (task is None or not task.cancelling()):
                return None
            raise

    async def _long_poll(self, request: HttpRequest, receive: Receive) -> HttpResponse | None:
        loop = asyncio.get_running_loop()
        stop = asyncio.timeout(None)
        try:
            async with stop:
                watcher = loop.create_task(_wait_for_disconnect(receive, stop))
                try:
                    return await self.engine.handle_http(request)
                finally:
                    watcher.cancel()
        except TimeoutError:
            if stop.expired():
                return None  # the client left; the engine saw its poll cancelled
            raise

    # -- WebSocket --------------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _route_path(scope)
        engine = self.engine
        if not engine.handles(path):
            if self.other_asgi_app is not None:
                await self.other_asgi_app(scope, receive, send)
            else:
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1000})
            return
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        plan = await engine.check_websocket(_request(scope, path))
        if isinstance(plan, HttpResponse):
            await self._refuse(scope, send, plan)
            return
        channel = _Channel(send)
        try:
            # Attached before the accept, with no await in between, so the session the plan
            # names is still there; what the engine sends meanwhile waits in the queue.
            handle = engine.open_websocket(plan, channel)
        except (ProtocolError, KeyError):  # a probe the session no longer takes
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 1000})
            return
        channel.handle = handle
        accept: dict[str, Any] = {"type": "websocket.accept"}
        if plan.headers:
            accept["headers"] = [(k.lower().encode(), v.encode()) for k, v in plan.headers]
        try:
            await send(accept)
        except OSError:
            handle.closed()
            return
        await self._run_websocket(receive, channel, handle)

    async def _refuse(self, scope: Scope, send: Send, response: HttpResponse) -> None:
        """Refuse a WebSocket before accepting it: the engine's HTTP answer when possible."""
        if "websocket.http.response" in (scope.get("extensions") or {}):
            await send(_start("websocket.http.response.start", response))
            await send({"type": "websocket.http.response.body", "body": response.body})
        else:
            await send({"type": "websocket.close", "code": 1008})  # the server answers 403

    async def _run_websocket(
        self, receive: Receive, channel: _Channel, handle: WebSocketHandle
    ) -> None:
        """Read until the client leaves or the writer has sent the close (or failed)."""
        loop = asyncio.get_running_loop()
        writer: asyncio.Task[None] | None = None
        stop = asyncio.timeout(None)

        def writer_done() -> None:
            if stop.when() is None:
                stop.reschedule(loop.time())

        try:
            async with stop:
                channel.on_writer_done = writer_done
                writer = loop.create_task(channel.write())
                while True:
                    message = await receive()
                    kind = message["type"]
                    if kind == "websocket.receive":
                        data = message.get("text")
                        if data is None:
                            data = message.get("bytes")
                        if data is not None:
                            handle.receive(data)
                    elif kind == "websocket.disconnect":
                        break
        except TimeoutError:
            if not stop.expired():
                raise
        finally:
            channel.on_writer_done = None
            if writer is not None and not writer.done():
                writer.cancel()
            handle.closed()  # a no-op when the engine closed it first

    # -- lifespan ---------------------------------------------------------------------------------

    def _started(self) -> None:
        self.engine.start_accepting()  # served again after a shutdown
        self._stopping = None
        if self._signals is not None:
            self._signals.install()

    def _stop_signalled(self) -> None:
        """SIGTERM/SIGINT: shut down now, while the ASGI server drains its requests."""
        if self._stopping is None:
            logger.info("stop signal: closing every siox session")
            self._stopping = asyncio.get_running_loop().create_task(
                self.app.shutdown(self.shutdown_timeout)
            )

    async def _shut_down(self) -> None:
        if self._signals is not None:
            self._signals.uninstall()
        stopping, self._stopping = self._stopping, None
        if stopping is not None:
            await stopping  # began at the signal; its sessions are gone or going
        else:
            await self.app.shutdown(self.shutdown_timeout)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        other = self.other_asgi_app
        if other is not None:

            async def receive_then_shut_down() -> Message:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self._started()
                elif message["type"] == "lifespan.shutdown":
                    await self._shut_down()
                return message

            await other(scope, receive_then_shut_down, send)
            return
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "lifespan.startup":
                self._started()
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                try:
                    # The app's own shutdown: a siox.Server also closes its adapters.
                    await self._shut_down()
                except Exception as exc:
                    logger.exception("error shutting the siox engine down")
                    await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return
