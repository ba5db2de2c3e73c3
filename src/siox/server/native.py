"""The native front end: an asyncio protocol speaking HTTP/1.1 and WebSocket to the engine.

One `HttpProtocol` per TCP connection. HTTP requests are parsed by httptools
(`siox.http.http11`), answered one at a time in order; a WebSocket upgrade on the engine path
switches the connection to `siox.http.websocket`, whose messages go straight to the engine's
`WebSocketHandle` — no task, no queue per message. Broadcasts write pre-framed bytes.

(Over the 400-line soft cap: HTTP/1.1 keep-alive, task-free long-polling, idle timeouts and the
switch to WebSocket share one protocol object's state; splitting it would pass that state around on
the per-message path.)
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from .. import fastpaths
from ..engineio.handshake import NewSession, Transport
from ..errors import ProtocolError
from ..http import http11
from ..http.handshake import accept_upgrade, rejection_response
from ..http.http11 import Body, EndOfMessage, HttpError, Request, RequestParser, SwitchedProtocols
from ..http.messages import write_response
from ..http.websocket import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    TextMessage,
    WebSocketConnection,
)
from ..http.websocket_events import ConnectionState, Role
from ..options import DEFAULT_SERVE_OPTIONS
from .eager import start as eager_start
from .engine_server import EngineServer, WebSocketPlan
from .engine_socket import EngineSocket, WebSocketHandle
from .http_serving import PollingRoute, RequestBody, ResponseHeads, answer, engine_request
from .http_types import HttpRequest, HttpResponse, Router
from .native_channel import NativeChannel
from .static import StaticFiles

__all__ = ["HttpProtocol"]

logger = logging.getLogger("siox")
_OPEN = ConnectionState.OPEN
_IDLE = http11.ParserState.IDLE
_POLLING = Transport.POLLING
_SERVER = Role.SERVER


class HttpProtocol(asyncio.Protocol):
    """One client TCP connection."""

    __slots__ = (
        "_flush_pending",
        "_heads",
        "_idle_since",
        "_in_read",
        "_keep_alive_timeout",
        "_loop",
        "_out",
        "_out_large",
        "_request_timeout",
        "_served",
        "_tasks",
        "_timer",
        "_watchdog",
        "address",
        "current",
        "engine",
        "handle",
        "on_lost",
        "parser",
        "pending_upgrade",
        "queue",
        "raw",
        "route",
        "router",
        "secure",
        "static",
        "transport",
        "waiting_get",
        "worker",
        "ws",
    )

    def __init__(
        self,
        engine: EngineServer,
        static: StaticFiles | None = None,
        on_lost: Callable[[HttpProtocol], None] | None = None,
        request_timeout: float = DEFAULT_SERVE_OPTIONS.request_timeout,
        keep_alive_timeout: float = DEFAULT_SERVE_OPTIONS.keep_alive_timeout,
        router: Router | None = None,
        preface: bytes = b"",
    ) -> None:
        self.engine = engine
        self.router = router  # with workers: may take the connection to another process
        self.raw: list[bytes] | None = [preface] if preface else None
        self.static = static
        self.on_lost = on_lost
        self.transport: asyncio.Transport | None = None
        self.parser: RequestParser | None = RequestParser(
            max_body_size=engine.max_http_buffer_size * 2 + 65_536,
            request_timeout=request_timeout,
        )
        self.queue: deque[tuple[Request, RequestBody]] | None = None  # made by the first request
        self.current: RequestBody | None = None
        self.pending_upgrade: Request | None = None
        self.worker: asyncio.Task[None] | None = None
        #: the session whose long-polling GET this connection waits on (served without a task)
        self.waiting_get: EngineSocket | None = None
        #: the last validated long-polling request (the next one like it skips validation)
        self.route: PollingRoute | None = None
        self._heads: ResponseHeads | None = None  # the last response head (keep-alive)
        self.ws: WebSocketConnection | None = None
        self.handle: WebSocketHandle | None = None
        self.address = ""
        self.secure = False
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        # Idle connections are closed: a new one that sends no request within
        # request_timeout (408), a kept-alive one idle for keep_alive_timeout between requests.
        self._request_timeout = request_timeout
        self._keep_alive_timeout = keep_alive_timeout
        self._idle_since = self._loop.time()
        self._served = False
        self._watchdog: asyncio.TimerHandle | None = None
        # Writes made while a read is processed (or within one loop turn) leave in one syscall.
        self._out: list[bytes] = []
        self._out_large = False
        self._in_read = False
        self._flush_pending = False
        self._tasks: set[asyncio.Task[None]] | None = None  # made by the first upgrade

    # -- asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """asyncio.Protocol callback."""
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if isinstance(peer, tuple) else ""
        self.secure = transport.get_extra_info("sslcontext") is not None
        self._watchdog = self._loop.call_at(
            self._idle_since + self._request_timeout, self._check_idle
        )
        if self.raw is not None:  # handed over by another worker with what it had read
            preface, self.raw = self.raw[0], None
            self.data_received(preface)

    def data_received(self, data: bytes) -> None:
        """asyncio.Protocol callback."""
        ws = self.ws
        if ws is not None:  # the WebSocket's reads: everything here, no call per layer
            self._in_read = True  # the writes this read causes leave together
            try:
                handle = self.handle
                for message in ws.receive_data(data):
                    kind = type(message)
                    if kind is TextMessage or kind is BinaryMessage:
                        if handle is not None:
                            handle.receive(message.data)  # type: ignore[union-attr]
                    elif kind is CloseReceived or kind is ConnectionFailed:
                        self._write(ws.data_to_send())
                        self.handle = None
                        if handle is not None:
                            handle.closed()
                        self._close()
                        break
                else:
                    if ws.outgoing:  # pongs: tested without a call
                        self.queue_write(ws.data_to_send())
            finally:
                self._in_read = False
            if self._out:
                self._flush_out()
            return
        parser = self.parser
        if parser is None:
            return
        route = self.route
        if (
            fastpaths.ENABLED
            and route is not None
            and self.router is None
            and parser.state is _IDLE
            and not self.queue
            and self.waiting_get is None
            and self.worker is None
        ):
            # The bytes of the route's request again (its body aside): no parsing at all.
            body = route.body_of(data)
            if body is not None and self._serve_route(route, body, True):
                return
        raw = self.raw
        if self.router is not None and raw is None and parser.state is _IDLE and self._idle():
            raw = self.raw = []  # a new request starts with these bytes: keep them for a while
        if raw is not None:
            raw.append(data)
        events = parser.receive_data(data, self._loop.time())
        if raw is not None and self._route(events, raw):
            return
        for event in events:
            self._http_event(event)
        if route is not None and route is self.route and fastpaths.ENABLED and not route.learnt:
            route.learn(data, events, parser.max_header_size, parser.max_body_size)
        queue = self.queue
        if queue and self.worker is None and self.waiting_get is None and not queue[0][1].done:
            # A request whose body is still coming streams into the engine from a task (so a
            # POST is "in progress" for the session from its first byte, as the reference has it).
            self.worker = self._loop.create_task(self._serve_queue())
        self._arm_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """asyncio.Protocol callback."""
        self.transport = None
        if self._timer is not None:
            self._timer.cancel()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self.worker is not None:
            self.worker.cancel()
        waiting, self.waiting_get = self.waiting_get, None
        if waiting is not None:
            waiting.cancel_get()
        handle, self.handle = self.handle, None
        if handle is not None:
            handle.closed()
        if self.on_lost is not None:
            self.on_lost(self)

    def pause_writing(self) -> None:
        """asyncio.Protocol callback."""
        if self.handle is not None:
            self.handle.pause_writing()

    def resume_writing(self) -> None:
        """asyncio.Protocol callback."""
        if self.handle is not None:
            self.handle.resume_writing()

    # -- HTTP -------------------------------------------------------------------------------------

    def _route(self, events: list[Any], raw: list[bytes]) -> bool:
        """Offer a whole request head to the router; True: it took the connection."""
        for event in events:
            if type(event) is Request or type(event) is HttpError:
                self.raw = None
                assert self.router is not None
                assert self.transport is not None
                return type(event) is Request and self.router.route(
                    self.transport, event, b"".join(raw)
                )
        return False

    def _idle(self) -> bool:
        """Whether nothing is under way on this connection: no request, no waiting GET."""
        return (
            not self.queue
            and self.current is None
            and self.worker is None
            and self.waiting_get is None
            and self.pending_upgrade is None
            and not self._tasks
            and self.ws is None
        )

    def _check_idle(self) -> None:
        """The idle watchdog: close a connection idle for too long, else look again later.

        One timer per connection, re-armed only when it fires (requests just note the time),
        so keep-alive traffic pays no timer per request.
        """
        self._watchdog = None
        transport = self.transport
        if transport is None or transport.is_closing() or self.ws is not None:
            return
        now = self._loop.time()
        if self._idle():
            timeout = self._keep_alive_timeout if self._served else self._request_timeout
            deadline = self._idle_since + timeout
            if now >= deadline:
                if not self._served:  # never sent a request: answered as a slow one would be
                    self._write(write_response(408, [("Connection", "close")], b""))
                self._close()
                return
        else:
            deadline = now + self._keep_alive_timeout  # busy: look again later
        self._watchdog = self._loop.call_at(deadline, self._check_idle)

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.parser is None:
            return
        deadline = self.parser.next_deadline()
        if deadline is not None and self.ws is None:
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self.parser is None:
            return
        for event in self.parser.handle_timer(self._loop.time()):
            self._http_event(event)
        self._arm_timer()

    def _http_event(self, event: Any) -> None:
        kind = type(event)
        if kind is Request:
            if event.upgrade:
                self.pending_upgrade = event
                return
            body = RequestBody()
            self.current = body
            if self.queue is None:
                self.queue = deque()
            self.queue.append((event, body))
            # A request alone in the queue may be served without a task once it is whole.
            if self.worker is None and self.waiting_get is None and len(self.queue) > 1:
                self.worker = self._loop.create_task(self._serve_queue())
        elif kind is Body:
            if self.current is not None:
                self.current.push(event.data)
        elif kind is EndOfMessage:
            if self.current is not None:
                self.current.push(None)
                self.current = None
            if self.worker is None and self.waiting_get is None and self.queue:
                self._serve_now()
        elif kind is SwitchedProtocols:
            request, self.pending_upgrade = self.pending_upgrade, None
            if request is not None:
                # Checked at once: a task only if the checks wait (`siox.server.eager`).
                try:
                    task = eager_start(self._loop, self._upgrade(request, event.data))
                except Exception:  # as a task's would be, logged; the connection goes
                    logger.exception("error upgrading a connection to WebSocket")
                    self._close()
                    return
                if task is not None:
                    if self._tasks is None:
                        self._tasks = set()
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        elif kind is HttpError:
            self._write(write_response(event.status, [("Connection", "close")], b""))
            self._close()

    def _serve_now(self) -> None:
        """Serve the whole request at the head of the queue without a task, if the engine can.

        Long-polling requests of existing sessions are answered synchronously (a GET that has
        to wait is answered by a callback); everything else goes to the worker task. The fast
        path: a request like the last validated polling request of this connection (same
        method, target and headers; `PollingRoute`) goes to its session without reparsing or
        revalidating, while the session is still open and polling.
        """
        queue = self.queue
        assert queue
        head, body = queue[0]
        keep_alive = head.keep_alive
        route = self.route
        if fastpaths.ENABLED and route is not None and body.done and route.matches(head):
            queue.popleft()
            if self._serve_route(route, body.whole(), keep_alive):
                return
            queue.appendleft((head, body))
        if self.engine.handles(head.path) and body.done:
            request = self._request(head, None)

            def respond(response: HttpResponse) -> None:
                self.waiting_get = None
                self._send_response(response, keep_alive)
                if self.queue and self.worker is None and self.transport is not None:
                    self._serve_now()

            def found(socket: EngineSocket) -> None:
                self.route = PollingRoute(head, request, socket)

            queue.popleft()
            outcome = self.engine.handle_http_now(request, body.whole(), respond, found)
            if outcome is not False:
                if outcome is not None:  # a GET waiting for data: answered by `respond`
                    self.waiting_get = outcome
                return
            queue.appendleft((head, body))
        self.worker = self._loop.create_task(self._serve_queue())

    def _serve_route(self, route: PollingRoute, body: bytes, keep_alive: bool) -> bool:
        """Serve a request of ``route`` (already popped); False: its session cannot take it."""
        socket = route.socket
        if socket.closed or socket.core.transport is not _POLLING:
            return False

        def respond(response: HttpResponse) -> None:
            self.waiting_get = None
            self._send_response(response, keep_alive)
            if self.queue and self.worker is None and self.transport is not None:
                self._serve_now()

        waiting = self.engine.serve_polling(socket, route.request, body, respond)
        if waiting is not None:  # a GET waiting for data: answered by `respond`
            self.waiting_get = waiting
        return True

    def _send_response(self, response: HttpResponse, keep_alive: bool) -> None:
        if not keep_alive:
            headers = [*response.headers, ("Connection", "close")]
            self._write(write_response(response.status, headers, response.body))
            self._close()
            return
        heads = self._heads
        if heads is None:
            heads = self._heads = ResponseHeads()
        self._write(heads.serialise(response))
        self._served = True
        self._idle_since = self._loop.time()

    def _request(self, head: Request, body: RequestBody | None) -> HttpRequest:
        return engine_request(head, self.address, self.secure, body)

    async def _serve_queue(self) -> None:
        try:
            while self.queue:
                head, body = self.queue.popleft()
                response = await answer(self.engine, self.static, self._request(head, body))
                self._send_response(response, head.keep_alive)
                if not head.keep_alive:
                    return
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("error serving an HTTP request")
            self._write(write_response(500, [("Connection", "close")], b""))
            self._close()
        finally:
            self.worker = None

    def _write(self, data: bytes) -> None:
        if self._out:
            self._flush_out()
        if self.transport is not None:
            self.transport.write(data)

    def queue_write(self, data: bytes, large: bool = False) -> None:
        """Write ``data`` soon, with the rest of this loop turn's writes (``large``: unjoined)."""
        self._out.append(data)
        self._out_large |= large
        if not self._in_read and not self._flush_pending:
            self._flush_pending = True
            self._loop.call_soon(self._flush_out)

    def _flush_out(self) -> None:
        self._flush_pending = False
        out = self._out
        if out:
            transport = self.transport
            if transport is not None:
                if len(out) == 1:
                    transport.write(out[0])
                elif self._out_large:  # a large payload is written as it is, never joined
                    transport.writelines(out)
                else:
                    transport.write(b"".join(out))
            out.clear()
            self._out_large = False

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- WebSocket --------------------------------------------------------------------------------

    async def _upgrade(self, head: Request, rest: bytes) -> None:
        request = self._request(head, None)
        if not self.engine.handles(request.path):
            self._write(write_response(404, [("Connection", "close")], b"Not Found"))
            self._close()
            return
        plan = await self.engine.check_websocket(request)
        if isinstance(plan, HttpResponse):
            self._write(
                write_response(plan.status, [*plan.headers, ("Connection", "close")], plan.body)
            )
            self._close()
            return
        try:
            agreed = accept_upgrade(
                head.method,
                head.headers,
                deflate=self._deflate_options(),
                extra_headers=plan.headers,
            )
        except ProtocolError as error:
            self._write(rejection_response(error))
            self._close()
            return
        if self.transport is None:
            return
        self._start_websocket(plan, agreed.response, agreed.deflate, rest)

    def _deflate_options(self) -> Any:
        if not self.engine.per_message_deflate:
            return None
        from ..http.deflate import DeflateOptions

        return DeflateOptions()

    def _start_websocket(
        self, plan: WebSocketPlan, response: bytes, deflate: Any, rest: bytes
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._watchdog is not None:  # the engine's heartbeat watches a WebSocket
            self._watchdog.cancel()
            self._watchdog = None
        self.parser = None  # the connection speaks WebSocket from now on: free the HTTP parser
        self.ws = WebSocketConnection(
            _SERVER,
            max_message_size=self.engine.max_http_buffer_size,
            max_fragments=self.engine.max_fragments,
            deflate=deflate,
        )
        decision = plan.decision
        if type(decision) is NewSession and decision.eio >= 4:
            # The 101 and the open packet leave in one write (a send less per connection).
            self._out.append(response)
        else:
            # On v3 the 101 leaves on its own, as Node's server writes them: a client (npm ws)
            # that gets both in one read may report the open packet before a listener its
            # 'open' handler adds exists, and a v3 server sends nothing after it until the
            # client speaks (the engine.io-protocol suite's v3 WebSocket tests wait that way;
            # on v4 the server's first ping comes anyway).
            self._write(response)
        batching, self._in_read = self._in_read, True
        try:
            # Uncompressed server frames are valid with or without permessage-deflate.
            self.handle = self.engine.open_websocket(plan, NativeChannel(self, True))
        except ProtocolError:
            self.close_websocket(1000)
            return
        finally:
            self._in_read = batching
        if self._out and not batching:
            self._flush_out()
        if rest:
            self.data_received(rest)

    def close_websocket(self, code: int) -> None:
        """Close the WebSocket (the engine detached it)."""
        ws = self.ws
        self.handle = None
        if ws is not None and self.transport is not None:
            try:
                self._write(ws.send_close(code))
            except RuntimeError:
                pass
            self._loop.call_later(1.0, self._close)
