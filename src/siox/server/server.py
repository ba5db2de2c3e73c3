"""`Server`: the Socket.IO server (namespaces, handlers, broadcasts) on an Engine.IO server."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from ..socketio.parsers import ParserLike, resolve_parser
from .adapter import Adapter, InMemoryAdapter
from .client import Client
from .engine_api import EngineConnection
from .engine_server import EngineServer
from .namespace import Handler, Namespace, ParentNamespace
from .operators import AckResults, BroadcastOperator
from .socket import Socket

__all__ = ["Recovery", "Server"]

logger = logging.getLogger("siox")
F = TypeVar("F", bound=Callable[..., Any])
NamespaceMatcher = re.Pattern[str] | Callable[[str, dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Recovery:
    """Connection state recovery options (socket.io 4.6+).

    Attributes:
        max_disconnection_duration: how long a disconnected session and the packets it may
            miss are kept (seconds).
        skip_middlewares: skip the ``use`` middlewares when a session is restored.
    """

    max_disconnection_duration: float = 120.0
    skip_middlewares: bool = True


class Server:
    """A Socket.IO server. Serve it with `siox.run`, `siox.serve` or `siox.ASGIApp`.

    Args:
        path: the endpoint path (default ``"/socket.io/"``).
        cors_allowed_origins: ``None`` (same origin only, the default), ``"*"``, or a list of
            allowed origins; checked on WebSocket handshakes too.
        ping_interval: seconds between server pings (25).
        ping_timeout: seconds to wait for a pong (20).
        max_http_buffer_size: largest message or polling body accepted, bytes (1,000,000).
        transports: allowed transports, ``("polling", "websocket")``.
        connect_timeout: seconds a connection may stay without joining a namespace (45).
        parser: ``"default"``, ``"msgpack"`` or a parser object.
        allow_eio3: also serve socket.io 2.x clients (Engine.IO v3), off by default.
        connection_state_recovery: ``True`` or a `Recovery` to enable recovery.
        adapter: a callable ``namespace -> Adapter`` (the in-memory adapter by default).
        ordered_handlers: run one client's coroutine handlers one at a time, in order (True).
        max_attachments: most binary attachments accepted in one packet (10).
        **engine_options: further Engine.IO options (``upgrade_timeout``, ``allow_upgrades``,
            ``allow_request``, ``cookie``, ``max_buffer_size``, ``http_compression``,
            ``per_message_deflate``, ...), see `siox.server.engine_server.EngineServer`.
    """

    def __init__(
        self,
        *,
        path: str = "/socket.io/",
        cors_allowed_origins: str | Iterable[str] | None = None,
        ping_interval: float = 25.0,
        ping_timeout: float = 20.0,
        max_http_buffer_size: int = 1_000_000,
        transports: Iterable[str] = ("polling", "websocket"),
        connect_timeout: float = 45.0,
        parser: str | ParserLike = "default",
        allow_eio3: bool = False,
        connection_state_recovery: bool | Recovery = False,
        adapter: Callable[[Namespace], Adapter] | None = None,
        ordered_handlers: bool = True,
        max_attachments: int = 10,
        **engine_options: Any,
    ) -> None:
        if connection_state_recovery is True:
            connection_state_recovery = Recovery()
        self.recovery: Recovery | None = connection_state_recovery or None
        self.connect_timeout = connect_timeout
        self.ordered_handlers = ordered_handlers
        self._adapter_factory = adapter
        self._parsers = {
            5: resolve_parser(parser, protocol=5, max_attachments=max_attachments),
        }
        if allow_eio3:
            self._parsers[4] = resolve_parser(
                "default" if parser == "msgpack" else parser,
                protocol=4,
                max_attachments=max_attachments,
            )
        self._error_handlers: list[Callable[[BaseException], Any]] = []
        self.namespaces: dict[str, Namespace] = {}
        self._dynamic: list[ParentNamespace] = []
        self.clients: dict[str, Client] = {}
        self.engine = EngineServer(
            self,
            path=path,
            cors_allowed_origins=cors_allowed_origins,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            max_http_buffer_size=max_http_buffer_size,
            transports=transports,
            allow_eio3=allow_eio3,
            **engine_options,
        )
        self.of("/")

    # -- namespaces -------------------------------------------------------------------------------

    def make_adapter(self, namespace: Namespace) -> Adapter:
        """The adapter for a new namespace."""
        if self._adapter_factory is not None:
            return self._adapter_factory(namespace)
        window = self.recovery.max_disconnection_duration if self.recovery else None
        return InMemoryAdapter(namespace, max_disconnection_duration=window)

    def of(self, name: str | NamespaceMatcher) -> Namespace:
        """The namespace ``name``, created on first use.

        ``name`` may also be a compiled regular expression or a callable ``(name, auth) ->
        bool``: a dynamic namespace rule whose handlers apply to every namespace it matches.
        """
        if isinstance(name, str):
            if not name.startswith("/"):
                name = "/" + name
            namespace = self.namespaces.get(name)
            if namespace is None:
                namespace = self.namespaces[name] = Namespace(self, name)
            return namespace
        if isinstance(name, re.Pattern):
            pattern = name

            def matcher(candidate: str, auth: dict[str, Any]) -> bool:
                return pattern.fullmatch(candidate) is not None

            parent = ParentNamespace(self, matcher)
        else:
            parent = ParentNamespace(self, name)
        self._dynamic.append(parent)
        return parent

    def find_namespace(self, name: str, auth: dict[str, Any]) -> Namespace | None:
        """The namespace a CONNECT for ``name`` joins (creating it from a dynamic rule)."""
        namespace = self.namespaces.get(name)
        if namespace is not None:
            return namespace
        for parent in self._dynamic:
            try:
                matched = parent.matcher(name, auth)
            except Exception as exc:
                self.report_error(exc)
                continue
            if matched:
                child = self.namespaces[name] = parent.create_child(name)
                return child
        return None

    def parser_for(self, protocol: int) -> ParserLike:
        """The parser for sessions of Socket.IO ``protocol``."""
        return self._parsers[protocol]

    def recovery_skips_middlewares(self) -> bool:
        """Whether restored sessions skip the ``use`` middlewares."""
        return self.recovery is not None and self.recovery.skip_middlewares

    # -- registration on "/" ----------------------------------------------------------------------

    @overload
    def on(self, event: str, handler: None = None, *, namespace: str = "/") -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, handler: F, *, namespace: str = "/") -> F: ...
    def on(self, event: str, handler: Handler | None = None, *, namespace: str = "/") -> Any:
        """Register a handler (decorator) on ``namespace`` (``"/"`` by default)."""
        return self.of(namespace).on(event, handler)

    def event(self, func: F) -> F:
        """Decorator: handler for the event named like the function, on ``"/"``."""
        return self.of("/").event(func)

    def use(self, middleware: F) -> F:
        """Connect middleware on ``"/"`` (see `Namespace.use`)."""
        return self.of("/").use(middleware)

    def on_any(self, listener: F) -> F:
        """Catch-all incoming listener on ``"/"``."""
        return self.of("/").on_any(listener)

    def on_any_outgoing(self, listener: F) -> F:
        """Catch-all outgoing listener on ``"/"``."""
        return self.of("/").on_any_outgoing(listener)

    def on_error(self, handler: F) -> F:
        """Register the hook handler exceptions are reported to: ``handler(exc)``."""
        self._error_handlers.append(handler)
        return handler

    def report_error(self, exc: BaseException) -> None:
        """Report an exception raised by application code (never kills the connection)."""
        if not self._error_handlers:
            logger.error("error in a handler", exc_info=exc)
            return
        for handler in self._error_handlers:
            try:
                handler(exc)
            except Exception:
                logger.exception("error in the error hook")

    # -- broadcasting on "/" ----------------------------------------------------------------------

    def to(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Target ``room`` in ``"/"``."""
        return self.of("/").to(room)

    in_ = to

    def except_(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Everyone in ``"/"`` but ``room``."""
        return self.of("/").except_(room)

    @property
    def volatile(self) -> BroadcastOperator:
        """A volatile broadcast on ``"/"``."""
        return self.of("/").volatile

    @property
    def local(self) -> BroadcastOperator:
        """A broadcast to this server's sockets on ``"/"``."""
        return self.of("/").local

    def compress(self, value: bool = True) -> BroadcastOperator:
        """A broadcast on ``"/"`` with compression on or off."""
        return self.of("/").compress(value)

    def timeout(self, seconds: float) -> BroadcastOperator:
        """A broadcast on ``"/"`` whose acks are awaited for ``seconds``."""
        return self.of("/").timeout(seconds)

    async def emit(self, event: str, *args: Any, namespace: str = "/") -> None:
        """Send ``event`` to everyone in ``namespace``."""
        await self.of(namespace).emit(event, *args)

    async def emit_with_ack(self, event: str, *args: Any) -> AckResults:
        """Send ``event`` to everyone in ``"/"`` and collect the acks."""
        return await self.of("/").emit_with_ack(event, *args)

    async def fetch_sockets(self) -> list[Socket]:
        """Every socket of ``"/"``."""
        return await self.of("/").fetch_sockets()

    async def sockets_join(self, room: str | Iterable[str]) -> None:
        """Make every socket of ``"/"`` join ``room``."""
        await self.of("/").sockets_join(room)

    async def sockets_leave(self, room: str | Iterable[str]) -> None:
        """Make every socket of ``"/"`` leave ``room``."""
        await self.of("/").sockets_leave(room)

    async def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every socket of ``"/"``."""
        await self.of("/").disconnect_sockets(close)

    # -- the Engine.IO application ----------------------------------------------------------------

    def engine_opened(self, conn: EngineConnection) -> None:
        """A new Engine.IO session: make its `Client` (and join "/" for socket.io 2.x)."""
        client = self.clients[conn.sid] = Client(self, conn)
        if client.session.protocol < 5:
            # auth is {} as in socket.io 4.8: a 2.x client's query for "/" is in the handshake
            # URL (socket.handshake.query), not in a namespace of its own.
            request = client.session.open_implicit({})
            client.runner.submit(client._connect(request))

    def engine_message(self, conn: EngineConnection, data: str | bytes) -> None:
        """A message on a session."""
        client = self.clients.get(conn.sid)
        if client is not None:
            client.receive(data)

    def engine_closed(self, conn: EngineConnection, reason: str) -> None:
        """A session ended."""
        client = self.clients.pop(conn.sid, None)
        if client is not None:
            client.engine_closed(reason)

    # -- lifecycle --------------------------------------------------------------------------------

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop accepting, disconnect every client ("server shutting down"), drain."""
        await self.engine.shutdown(timeout)
