"""`Server`: the Socket.IO server (namespaces, handlers, broadcasts) on an Engine.IO server.

(Over the 400-line soft cap: most of it is the typed keyword list of every option, each documented
with its default and unit; the main namespace's shortcuts live in `siox.server.main_namespace`.)
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable, Iterable
from os import PathLike
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..adapters.base import Adapter, LocalSockets
from ..adapters.memory import InMemoryAdapter
from ..core.timers import TimerQueue
from ..options import (
    DEFAULT_LIMITS,
    DEFAULT_SERVE_OPTIONS,
    DEFAULT_SERVER_OPTIONS,
    Caps,
    EngineOptions,
    Limits,
    Recovery,
    ServerOptions,
    cors_origins,
)
from ..socketio.parsers import ParserLike, ParserSpec, check_parser, resolve_parser
from .client_bundle import client_bundle_for
from .driver import ConnectionDriver
from .engine_api import EngineConnection, Timers
from .engine_server import AllowRequest, EngineServer, GenerateId
from .engine_socket import EngineSocket
from .events import check_event_name
from .guard import EngineGuard
from .main_namespace import MainNamespaceShortcuts
from .namespace import Handler, Namespace, ParentNamespace
from .observer import EventTracer, ObservedConnection, ObserverGroup, ServerObserver
from .operators import AckResults, BroadcastOperator
from .runner import ErrorContext, accepts_positional
from .typed_events import typed_wrapper

if TYPE_CHECKING:
    from ..admin import AdminUI
    from ..metrics import SioxMetrics
    from ..otel import SioxTracing

__all__ = ["Recovery", "Server"]

logger = logging.getLogger("siox")
F = TypeVar("F", bound=Callable[..., Any])
NamespaceMatcher = re.Pattern[str] | Callable[[str, dict[str, Any]], bool]
_ENGINE = DEFAULT_SERVER_OPTIONS.engine
_LIMITS = DEFAULT_LIMITS
_SERVER = DEFAULT_SERVER_OPTIONS


class Server(MainNamespaceShortcuts):
    """A Socket.IO server. Serve it with `siox.run`, `siox.serve` or `siox.ASGIApp`.

    Every option is keyword-only; the defaults live in `siox.options` (`ServerOptions`,
    `EngineOptions`, `Limits`) and the options are kept, as a `ServerOptions`, in ``options``.

    Args:
        path: the endpoint path (``"/socket.io/"``).
        cors_allowed_origins: ``None`` (same origin only, the default), ``"*"``, or a list of
            allowed origins; checked on WebSocket handshakes too.
        ping_interval: seconds between server pings (25.0).
        ping_timeout: seconds to wait for a pong (20.0).
        max_http_buffer_size: the largest message or polling body accepted, bytes
            (1,000,000); every parser's decoder gets it too.
        transports: the allowed transports (``("polling", "websocket")``).
        connect_timeout: seconds a connection may stay without joining a namespace (45.0).
        parser: ``"default"``, ``"msgpack"``, or a parser object: anything with
            ``encode(packet)`` and a ``Decoder`` class, such as the module
            `siox.parser.msgpack` (see `siox.socketio.parsers`).
        allow_eio3: also serve socket.io 2.x clients (Engine.IO v3) (False).
        connection_state_recovery: ``True`` or a `Recovery` to enable recovery (False).
        adapter: a callable ``local -> Adapter`` building a namespace's adapter from the
            namespace's `siox.adapters.LocalSockets` (None: the in-memory adapter).
        ordered_handlers: run one client's coroutine handlers one at a time, in order (True).
        max_attachments: the most binary attachments accepted in one packet (10).
        max_depth: the deepest nesting of a packet's data accepted (32).
        upgrade_timeout: seconds a WebSocket upgrade probe may take (10.0).
        allow_upgrades: offer the polling -> WebSocket upgrade (True).
        allow_request: ``hook(request)`` run on each handshake, sync or async; a false value
            or a string (the message) refuses it with 403 (None: every handshake allowed).
        cookie: the name of an affinity cookie set on the handshake, or None (the default).
        max_buffer_size: outgoing bytes queued for a slow client before it is dropped
            (10,000,000).
        http_compression: gzip/deflate polling responses of 1 KiB or more (True).
        per_message_deflate: offer permessage-deflate on WebSockets (False).
        close_timeout: seconds a closing polling session waits for its last GET (30.0).
        max_fragments: the most frames one WebSocket message may have, on the native server
            (1024).
        cleanup_empty_child_namespaces: remove a child of a dynamic namespace once its last
            socket has left (True; off by default in socket.io, on in siox so that clients
            cannot grow the server's memory without bound).
        add_trailing_slash: serve the path with a trailing slash added (True); False serves
            ``path`` exactly as given.
        generate_id: ``generate_id(request) -> str`` (sync or async) choosing each new
            Engine.IO session id (None: 20 random URL-safe characters).
        initial_packet: an Engine.IO message sent to every new session right after its open
            packet, as engine.io's ``initialPacket`` (None: none).
        caps: the caps on clients (`siox.options.Caps`: per-address, rate, namespace, room and
            ack caps; see SECURITY.md).
        serve_client: serve the official client bundle as the JavaScript server does
            (``/socket.io/socket.io.min.js`` and the others, with ETag/304), from the npm
            package socket.io-client (False; see `siox.server.client_bundle`).
        client_bundle_dir: the folder holding that bundle (None: found in
            ``node_modules/socket.io-client/dist`` above the current directory or the
            application's module).
        validate_events: check and convert the arguments of event handlers against their
            type annotations, encode their results (False; see `siox.typed`).

    Raises:
        TypeError: an unknown option (a misspelled name), or a ``parser`` object without
            ``encode`` and ``Decoder``.
        ValueError: an unknown parser name, or a duration that is clearly milliseconds
            (durations are seconds; see `siox.options`).
        FileNotFoundError: ``serve_client`` and no client bundle found (the message says
            where it looked and how to install one).
    """

    def __init__(
        self,
        *,
        path: str = _ENGINE.path,
        cors_allowed_origins: str | Iterable[str] | None = _ENGINE.cors_allowed_origins,
        ping_interval: float = _ENGINE.ping_interval,
        ping_timeout: float = _ENGINE.ping_timeout,
        max_http_buffer_size: int = _LIMITS.max_http_buffer_size,
        transports: Iterable[str] = _ENGINE.transports,
        connect_timeout: float = _SERVER.connect_timeout,
        parser: ParserSpec = "default",
        allow_eio3: bool = _ENGINE.allow_eio3,
        connection_state_recovery: bool | Recovery = False,
        adapter: Callable[[LocalSockets], Adapter] | None = None,
        ordered_handlers: bool = _SERVER.ordered_handlers,
        max_attachments: int = _LIMITS.max_attachments,
        max_depth: int = _LIMITS.max_depth,
        upgrade_timeout: float = _ENGINE.upgrade_timeout,
        allow_upgrades: bool = _ENGINE.allow_upgrades,
        allow_request: AllowRequest | None = _ENGINE.allow_request,
        cookie: str | None = _ENGINE.cookie,
        max_buffer_size: int = _LIMITS.max_buffer_size,
        http_compression: bool = _ENGINE.http_compression,
        per_message_deflate: bool = _ENGINE.per_message_deflate,
        close_timeout: float = _ENGINE.close_timeout,
        max_fragments: int = _LIMITS.max_fragments,
        cleanup_empty_child_namespaces: bool = _SERVER.cleanup_empty_child_namespaces,
        add_trailing_slash: bool = _ENGINE.add_trailing_slash,
        generate_id: GenerateId | None = _ENGINE.generate_id,
        initial_packet: str | bytes | None = _ENGINE.initial_packet,
        caps: Caps = _ENGINE.caps,
        serve_client: bool = _SERVER.serve_client,
        client_bundle_dir: str | PathLike[str] | None = _SERVER.client_bundle_dir,
        validate_events: bool = _SERVER.validate_events,
    ) -> None:
        limits = Limits(
            max_http_buffer_size=max_http_buffer_size,
            max_buffer_size=max_buffer_size,
            max_attachments=max_attachments,
            max_depth=max_depth,
            max_fragments=max_fragments,
        )
        spec = check_parser(parser)
        #: The options this server was built with.
        self.options = ServerOptions(
            engine=EngineOptions(
                path=path,
                cors_allowed_origins=cors_origins(cors_allowed_origins),
                ping_interval=ping_interval,
                ping_timeout=ping_timeout,
                upgrade_timeout=upgrade_timeout,
                close_timeout=close_timeout,
                allow_upgrades=allow_upgrades,
                transports=tuple(transports),
                allow_request=allow_request,
                cookie=cookie,
                http_compression=http_compression,
                per_message_deflate=per_message_deflate,
                allow_eio3=allow_eio3,
                limits=limits,
                add_trailing_slash=add_trailing_slash,
                generate_id=generate_id,
                initial_packet=initial_packet,
                caps=caps,
            ),
            connect_timeout=connect_timeout,
            parser=spec,
            connection_state_recovery=(
                Recovery()
                if connection_state_recovery is True
                else connection_state_recovery or None
            ),
            adapter=adapter,
            ordered_handlers=ordered_handlers,
            cleanup_empty_child_namespaces=cleanup_empty_child_namespaces,
            serve_client=serve_client,
            client_bundle_dir=client_bundle_dir,
            validate_events=validate_events,
        )
        self._handler_wrapper = typed_wrapper(self) if validate_events else None
        #: server-to-client events declared for the typed exports: namespace -> event -> spec
        self.declared_emits: dict[str, dict[str, tuple[tuple[Any, ...], Any]]] = {}
        self.recovery: Recovery | None = self.options.connection_state_recovery
        self.connect_timeout = connect_timeout
        self.ordered_handlers = ordered_handlers
        self._adapter_factory = adapter
        self._parsers = {5: resolve_parser(spec, protocol=5, limits=limits)}
        if allow_eio3:
            # socket.io 2.x has no msgpack peer: its sessions use the default parser.
            self._parsers[4] = resolve_parser(
                "default" if spec == "msgpack" else spec, protocol=4, limits=limits
            )
        self._error_handlers: list[tuple[Callable[..., Any], bool]] = []
        self.namespaces: dict[str, Namespace] = {}
        self._dynamic: list[ParentNamespace] = []
        self._new_namespace_listeners: list[Callable[[Namespace], Any]] = []
        #: the connection driver of each Engine.IO session, by session id
        self.connections: dict[str, ConnectionDriver] = {}
        #: what watches this server (`add_observer`): None, the default, costs nothing
        self.observer: ServerObserver | None = None
        #: what wraps namespace connects and events (``instrument_tracing``): None costs nothing
        self.tracer: EventTracer | None = None
        self.engine = EngineServer.from_options(self, self.options.engine)
        #: `report_error`, bound once: every connection's handler runner holds it
        self.error_reporter: Callable[[BaseException], None] = self.report_error
        if serve_client:
            # Found now, so that a missing bundle fails at start, not at the first page load.
            self.engine.client_bundle = client_bundle_for(self.engine, client_bundle_dir)
        self.of("/")

    # -- namespaces -------------------------------------------------------------------------------

    @property
    def adapter_factory(self) -> Callable[[LocalSockets], Adapter] | None:
        """The ``adapter`` factory the server was given (None: the in-memory adapter)."""
        return self._adapter_factory

    def use_adapter(self, factory: Callable[[LocalSockets], Adapter]) -> None:
        """Build every namespace's adapter with ``factory`` from now on, existing ones included.

        For whoever sets the server up before it serves (the workers give each process its own
        cluster adapter this way): a namespace's sockets are not moved between adapters.
        """
        self._adapter_factory = factory
        for namespace in self.namespaces.values():
            namespace.adapter = self.make_adapter(namespace.local_sockets)

    def make_adapter(self, local: LocalSockets) -> Adapter:
        """The adapter of a new namespace, over its local sockets."""
        if self._adapter_factory is not None:
            adapter = self._adapter_factory(local)
            if self.recovery is not None:
                adapter.configure_recovery(self.recovery.max_disconnection_duration)
            return adapter
        window = self.recovery.max_disconnection_duration if self.recovery else None
        return InMemoryAdapter(local, max_disconnection_duration=window)

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
                namespace = self.namespaces[name] = Namespace(
                    name,
                    self.make_adapter,
                    recovery=self.recovery is not None,
                    timers=self.session_timers,
                )
                namespace.handler_wrapper = self._handler_wrapper
                self._namespace_created(namespace)
            return namespace
        if isinstance(name, re.Pattern):
            pattern = name

            def matcher(candidate: str, auth: dict[str, Any]) -> bool:
                return pattern.fullmatch(candidate) is not None

            rule: Callable[[str, dict[str, Any]], bool] = matcher
        else:
            rule = name
        parent = ParentNamespace(
            rule,
            self.make_adapter,
            recovery=self.recovery is not None,
            timers=self.session_timers,
            cleanup_empty_children=self.options.cleanup_empty_child_namespaces,
            forget=self._forget_namespace,
        )
        parent.handler_wrapper = self._handler_wrapper
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
                self.report_error(exc, ErrorContext(namespace=name))
                continue
            if matched:
                child = self.namespaces[name] = parent.create_child(name)
                self._namespace_created(child)
                return child
        return None

    def _forget_namespace(self, namespace: Namespace) -> None:
        if self.namespaces.get(namespace.name) is namespace:
            del self.namespaces[namespace.name]

    def _namespace_created(self, namespace: Namespace) -> None:
        for listener in self._new_namespace_listeners:
            try:
                listener(namespace)
            except Exception as exc:
                self.report_error(
                    exc, ErrorContext(event="new_namespace", namespace=namespace.name)
                )

    def session_timers(self) -> Timers:
        """The clock and timers the connections run on (the event loop unless testing)."""
        return self.engine.session_timers()

    def timer_queue(self) -> TimerQueue:
        """The connections' timers on one timer of `session_timers` (`siox.core.timers`)."""
        return self.engine.timer_queue()

    def parser_for(self, protocol: int) -> ParserLike:
        """The parser for sessions of Socket.IO ``protocol``."""
        return self._parsers[protocol]

    @property
    def recovery_skips_middlewares(self) -> bool:
        """Whether restored sessions skip the ``use`` middlewares."""
        return self.recovery is not None and self.recovery.skip_middlewares

    @property
    def guard(self) -> EngineGuard:
        """The engine's caps (`siox.options.Caps`) and their log gate."""
        return self.engine.guard

    # -- registration on "/" ----------------------------------------------------------------------

    @overload
    def on(self, event: str, handler: None = None, *, namespace: str = "/") -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, handler: F, *, namespace: str = "/") -> F: ...
    def on(self, event: str, handler: Handler | None = None, *, namespace: str = "/") -> Any:
        """Register a handler (decorator) on ``namespace`` (``"/"`` by default).

        ``"new_namespace"`` is the server's own event (as ``io.on("new_namespace")``):
        ``listener(namespace)``, a plain function, called for each namespace created after
        the server (by `of`, or a dynamic rule's child).
        """
        if event == "new_namespace":
            return self._on_new_namespace(handler)
        return self.of(namespace).on(event, handler)

    def declare_emits(
        self, event: str, *arg_types: Any, ack: Any = None, namespace: str = "/"
    ) -> None:
        """Declare that ``event`` is emitted with ``arg_types`` (``ack``: the client's answer).

        Emits cannot be read from the code: this is what the `siox.typed` exports list as the
        server's events. It changes nothing at run time.
        """
        name = self.of(namespace).name  # created: a namespace nobody defined is not exported
        self.declared_emits.setdefault(name, {})[event] = (arg_types, ack)

    def _on_new_namespace(self, handler: Handler | None) -> Any:
        def register(func: Any) -> Any:
            if not callable(func) or inspect.iscoroutinefunction(func):
                raise TypeError("a new_namespace listener is a plain (not async) function")
            self._new_namespace_listeners.append(func)
            return func

        return register if handler is None else register(handler)

    def on_error(self, handler: F) -> F:
        """Register the hook application errors are reported to.

        The hook is called as ``handler(exc)``, or ``handler(exc, context)`` when it takes two
        arguments; ``context`` is a `siox.ErrorContext` naming the event, namespace and socket
        id (the same description is also added to the exception as a note).
        """
        self._error_handlers.append((handler, accepts_positional(handler, 2)))
        return handler

    def report_error(self, exc: BaseException, context: ErrorContext | None = None) -> None:
        """Report an exception raised by application code (it never kills the connection)."""
        context = context if context is not None else ErrorContext()
        if self.observer is not None:
            self.observer.handler_error(exc, context)
        where = context.describe()
        exc.add_note(f"siox: raised by the handler of {where}")
        if not self._error_handlers:
            logger.error("error in the handler of %s", where, exc_info=exc)
            return
        for handler, wants_context in self._error_handlers:
            try:
                if wants_context:
                    handler(exc, context)
                else:
                    handler(exc)
            except Exception:
                logger.exception("error in the error hook")

    # -- broadcasting (the rest of "/"'s operators: `MainNamespaceShortcuts`) ---------------

    async def emit(self, event: str, *args: Any, namespace: str = "/") -> None:
        """Send ``event`` to everyone in ``namespace``.

        A namespace nobody defined (nor a dynamic rule created) reaches nobody and is not
        created (socket.io's ``io.of(name).emit`` would create it).
        """
        if not namespace.startswith("/"):
            namespace = "/" + namespace
        target = self.namespaces.get(namespace)
        if target is None:
            check_event_name(event)
            return
        await target.emit(event, *args)

    # -- between servers (a cluster adapter; alone, there is no other server) ---------------------

    async def server_side_emit(self, event: str, *args: Any, namespace: str = "/") -> None:
        """Send ``event`` to the ``on_server_side`` handlers of every other server.

        The arguments travel as JSON (npm adapters' format): no binary values.
        """
        await self.of(namespace).adapter.server_side_emit([event, *args])

    async def server_side_emit_with_ack(self, event: str, *args: Any) -> AckResults:
        """`server_side_emit` collecting one reply per other server (see ``sio.timeout``)."""
        return await BroadcastOperator(self.of("/")).server_side_emit_with_ack(event, *args)

    @overload
    def on_server_side(
        self, event: str, handler: None = None, *, namespace: str = "/"
    ) -> Callable[[F], F]: ...
    @overload
    def on_server_side(self, event: str, handler: F, *, namespace: str = "/") -> F: ...
    def on_server_side(
        self, event: str, handler: Callable[..., Any] | None = None, *, namespace: str = "/"
    ) -> Any:
        """Register ``handler(*args)`` (decorator) for ``event`` sent by another server.

        The handler may be sync or async; its return value is the reply a
        ``server_side_emit_with_ack`` gets from this server.
        """
        handlers = self.of(namespace).local_sockets.server_side_handlers

        def register(func: F) -> F:
            handlers[event] = func
            return func

        return register if handler is None else register(handler)

    async def server_count(self, namespace: str = "/") -> int:
        """How many servers share ``namespace`` (1 without a cluster adapter)."""
        return await self.of(namespace).adapter.server_count()

    # -- the Engine.IO application ----------------------------------------------------------------

    def engine_opened(self, conn: EngineConnection) -> None:
        """A new Engine.IO session: make its connection driver."""
        observer = self.observer
        if observer is not None:
            observer.connection_opened(conn)
            conn = ObservedConnection(conn, observer)
        if self.options.engine.initial_packet is not None:
            conn.write([self.options.engine.initial_packet])
        self.connections[conn.sid] = driver = ConnectionDriver(self, conn)
        if isinstance(conn, EngineSocket):  # WebSocket messages: events straight to the driver
            conn.deliver_socketio(driver.handle)
        driver.start()  # registered first: a connect that runs at once may close the connection

    def engine_message(self, conn: EngineConnection, data: str | bytes) -> None:
        """A message on a session."""
        if self.observer is not None:
            self.observer.message_received(conn, data)
        driver = self.connections.get(conn.sid)
        if driver is not None:
            driver.receive(data)

    def engine_upgraded(self, conn: EngineConnection) -> None:
        """A session moved to WebSocket."""
        if self.observer is not None:
            self.observer.connection_upgraded(conn)

    def engine_closed(self, conn: EngineConnection, reason: str) -> None:
        """A session ended."""
        driver = self.connections.pop(conn.sid, None)
        if driver is not None:
            driver.engine_closed(reason)
        if self.observer is not None:
            self.observer.connection_closed(conn, reason)

    # -- observers (the Admin UI, metrics) --------------------------------------------------------

    def add_observer(self, observer: ServerObserver) -> None:
        """Have ``observer`` told what happens on this server (`siox.server.observer`).

        Connections opened before it was added are not reported as they write.
        """
        # Open connections report their messages through `engine_message` from now on.
        for driver in self.connections.values():
            if isinstance(driver.conn, EngineSocket):
                driver.conn.deliver_socketio(None)
        # Always behind a group: an observer that raises is logged, never felt by the server.
        if isinstance(self.observer, ObserverGroup):
            self.observer.observers.append(observer)
        else:
            self.observer = ObserverGroup([observer])

    def instrument(self, **options: Any) -> AdminUI:
        """Serve the Socket.IO Admin UI's server side (``@socket.io/admin-ui``).

        See `siox.admin.instrument` for the options (``auth`` is required: credentials, or
        ``None`` explicitly).
        """
        from ..admin import instrument

        return instrument(self, **options)

    def instrument_metrics(self, **options: Any) -> SioxMetrics:
        """Count what this server does in Prometheus metrics (``siox[metrics]``).

        See `siox.metrics.instrument_metrics` for the options; by default the native server
        serves them at ``/metrics``.
        """
        from ..metrics import instrument_metrics

        return instrument_metrics(self, **options)

    def instrument_tracing(self, **options: Any) -> SioxTracing:
        """Trace what this server does in OpenTelemetry spans (``siox[otel]``).

        See `siox.otel.instrument_tracing` for the options (``tracer_provider``: the global
        one when None).
        """
        from ..otel import instrument_tracing

        return instrument_tracing(self, **options)

    # -- lifecycle --------------------------------------------------------------------------------

    async def shutdown(self, timeout: float = DEFAULT_SERVE_OPTIONS.shutdown_timeout) -> None:
        """Stop accepting, disconnect every client ("server shutting down"), drain.

        Then every namespace's adapter is closed (a cluster adapter unsubscribes).
        """
        await self.engine.shutdown(timeout)
        if self.observer is not None:
            self.observer.server_closed()
        for namespace in list(self.namespaces.values()):
            try:
                await namespace.adapter.close()
            except Exception:
                logger.exception("error closing the adapter of %s", namespace.name)
