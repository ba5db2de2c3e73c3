"""Every option of siox with its default, written once (standard library only).

The classes here are frozen, slotted dataclasses: `Limits` (sizes and counts enforced on what a
peer sends), `EngineOptions` (an Engine.IO server), `Recovery` (connection state recovery),
`ServerOptions` (a Socket.IO server), `ClientOptions` (a Socket.IO client) and `ServeOptions`
(the native front end). The ``DEFAULT_*`` instances hold the defaults; the rest of siox (the
sans-I/O core included) reads its defaults from them, so a default changes in one place.

Names are those of the JavaScript reference (socket.io 4.8, socket.io-client 4.8) in
snake_case; durations are float seconds and sizes are bytes. The public constructors
(`siox.Server`, `siox.EngineServer`, `siox.Client`, `siox.connect`) take the same options as
typed keyword arguments and keep the object they built as their ``options`` attribute.

Durations that are clearly milliseconds are refused (`ValueError`): a heartbeat, handshake,
connect or reconnection duration above `MAX_DURATION` (one hour), or a first reconnection
delay above `MAX_RECONNECTION_DELAY` (ten minutes), is almost certainly a JavaScript value
such as ``ping_interval=25000`` or ``reconnection_delay=1000``.

This module imports only the standard library: it sits below both the sans-I/O core and the
asyncio layer, and never imports from either.

(Over the 400-line soft cap: every default of siox written once, in one place, is its point.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import ip_network
from os import PathLike
from typing import Any

__all__ = [
    "DEFAULT_CAPS",
    "DEFAULT_CLIENT_OPTIONS",
    "DEFAULT_ENGINE_OPTIONS",
    "DEFAULT_LIMITS",
    "DEFAULT_SERVER_OPTIONS",
    "DEFAULT_SERVE_OPTIONS",
    "MAX_DURATION",
    "MAX_RECONNECTION_DELAY",
    "Caps",
    "ClientOptions",
    "EngineOptions",
    "Limits",
    "Recovery",
    "ServeOptions",
    "ServerOptions",
    "check_durations",
    "cors_origins",
]


#: The longest heartbeat / timeout / reconnection duration accepted, seconds (one hour):
#: anything longer is taken for milliseconds written where seconds are expected.
MAX_DURATION = 3600.0
#: The longest first reconnection delay accepted, seconds (ten minutes; socket.io-client's
#: default, 1000 ms, must not pass for 1000 s).
MAX_RECONNECTION_DELAY = 600.0

#: The Socket.IO endpoint path, shared by the server and the client.
_SOCKETIO_PATH = "/socket.io/"
#: Both transports, polling first (the reference's order).
_ALL_TRANSPORTS: tuple[str, ...] = ("polling", "websocket")


def check_durations(owner: str, limit: float = MAX_DURATION, **durations: float | None) -> None:
    """Refuse durations that look like milliseconds (JavaScript habits).

    Args:
        owner: the options' name, for the message.
        limit: the longest duration accepted, seconds (`MAX_DURATION`).
        **durations: the durations by option name (None is not checked).

    Raises:
        ValueError: a duration above ``limit`` seconds, naming the option.
    """
    for name, value in durations.items():
        if value is not None and value > limit:
            raise ValueError(
                f"{owner}: {name}={value!r} looks like milliseconds; siox durations are "
                f"seconds (did you mean {name}={value / 1000:g}?). Values above "
                f"{limit:g} s are refused."
            )


@dataclass(frozen=True, slots=True)
class Limits:
    """What one peer may send or have queued, enforced on the bytes actually received.

    Attributes:
        max_http_buffer_size: the largest Engine.IO message, polling body or WebSocket message
            accepted, bytes (the reference's ``maxHttpBufferSize``).
        max_buffer_size: outgoing bytes that may wait for a slow peer before its session is
            closed.
        max_attachments: the most binary attachments one Socket.IO packet may announce.
        max_depth: the deepest nesting of a packet's data (JSON or msgpack) accepted.
        max_fragments: the most frames one WebSocket message may have (the native server and
            the client; an ASGI server applies its own).
    """

    max_http_buffer_size: int = 1_000_000
    max_buffer_size: int = 10_000_000
    max_attachments: int = 10
    max_depth: int = 32
    max_fragments: int = 1024


#: The default limits.
DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Caps:
    """How much one client (an address, a connection, a socket) may hold or do, and in total.

    The reference has none: each default is off (None) or a bound no well-behaved client
    reaches. Refusals: HTTP 429 (per address) or 503 (full) with an Engine.IO error body, or
    a reason; logged at most once per source per ``log_interval`` (see SECURITY.md).

    Attributes:
        max_connections_per_ip: open Engine.IO sessions per client address (None: off).
        handshakes_per_ip_per_second: new sessions per client address per second, with a
            burst of twice as many (None: off).
        max_sessions: open Engine.IO sessions in total (None: off).
        events_per_second: events one socket may send per second, with a burst of
            ``events_burst`` (None: off).
        events_burst: how many events a socket may send at once (default: twice the rate).
        on_event_overflow: ``"drop"`` (the event is ignored) or ``"disconnect"`` (the socket
            is disconnected with the reason ``"rate limit exceeded"``).
        max_namespaces_per_connection: namespaces one connection may join at once (past it a
            CONNECT is refused: ``"Too many namespaces"``).
        max_rooms_per_socket: rooms one socket may be in (its own room counts); a join past it
            raises `siox.errors.CapExceeded` in the handler that asked.
        max_pending_acks: acks one socket may have the server wait for at once (past it
            ``emit_with_ack`` raises `siox.errors.CapExceeded`); the client's own acks are
            bounded by ``events_per_second`` and the ordered handler queue.
        log_interval: seconds between two log lines about the same kind of refusal of the
            same source.
        trusted_proxies: addresses or networks (``"10.0.0.0/8"``) of reverse proxies whose
            ``X-Forwarded-For`` header names the client for the per-address caps: the source
            is the right-most address in that header not itself trusted. Empty (the default):
            the peer address is the source. Under an ASGI server, its own proxy-headers
            setting does this instead.
    """

    max_connections_per_ip: int | None = None
    handshakes_per_ip_per_second: float | None = None
    max_sessions: int | None = None
    events_per_second: float | None = None
    events_burst: float | None = None
    on_event_overflow: str = "drop"
    max_namespaces_per_connection: int | None = 100
    max_rooms_per_socket: int | None = 10_000
    max_pending_acks: int | None = None
    log_interval: float = 10.0
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        proxies: object = self.trusted_proxies
        if isinstance(proxies, str):
            raise TypeError("trusted_proxies is a tuple of addresses or networks, not a str")
        for proxy in self.trusted_proxies:
            try:
                ip_network(proxy, strict=False)
            except ValueError:
                message = f"trusted_proxies: {proxy!r} is not an address or a network"
                raise ValueError(message) from None
        if self.on_event_overflow not in ("drop", "disconnect"):
            raise ValueError(
                f"on_event_overflow is 'drop' or 'disconnect', not {self.on_event_overflow!r}"
            )


#: The default caps.
DEFAULT_CAPS = Caps()


def cors_origins(value: str | Iterable[str] | None) -> str | tuple[str, ...] | None:
    """``cors_allowed_origins`` as `EngineOptions` keeps it: a list or set becomes a tuple."""
    if value is None or isinstance(value, str):
        return value
    return tuple(value)


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Options of an Engine.IO server (`siox.EngineServer`; `siox.Server` builds one).

    Attributes:
        path: the endpoint path.
        cors_allowed_origins: ``None`` (same origin only), ``"*"``, or the allowed origins.
        ping_interval: seconds between server pings.
        ping_timeout: seconds to wait for a pong.
        upgrade_timeout: seconds a WebSocket upgrade probe may take.
        close_timeout: seconds a closing polling session waits for its last GET.
        allow_upgrades: offer the polling -> WebSocket upgrade.
        transports: the allowed transports (``"polling"``, ``"websocket"``).
        allow_request: ``hook(request)`` run on each handshake; a false value or a string (the
            message) refuses it with 403. None: every handshake is allowed.
        cookie: the name of an affinity cookie set on the handshake, or None.
        http_compression: gzip/deflate polling responses of 1 KiB or more.
        per_message_deflate: offer permessage-deflate on WebSockets.
        allow_eio3: serve Engine.IO v3 (socket.io 2.x) clients too.
        limits: the size limits (`Limits`).
        add_trailing_slash: serve ``path`` with a trailing slash added (``/socket.io/``, also
            reached as ``/socket.io``); False serves ``path`` exactly as written.
        generate_id: ``generate_id(request) -> str`` (sync or async) giving each new session
            its id, or None for random ids.
        initial_packet: a message sent to every new session right after its open packet
            (bare Engine.IO servers), or None.
        caps: the caps on clients (`Caps`).

    Raises:
        ValueError: a duration above `MAX_DURATION` (milliseconds where seconds are meant).
    """

    path: str = "/engine.io/"
    cors_allowed_origins: str | tuple[str, ...] | None = None
    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    upgrade_timeout: float = 10.0
    close_timeout: float = 30.0
    allow_upgrades: bool = True
    transports: tuple[str, ...] = _ALL_TRANSPORTS
    allow_request: Callable[[Any], Any] | None = None
    cookie: str | None = None
    http_compression: bool = True
    per_message_deflate: bool = False
    allow_eio3: bool = False
    limits: Limits = DEFAULT_LIMITS
    add_trailing_slash: bool = True
    generate_id: Callable[[Any], Any] | None = None
    initial_packet: str | bytes | None = None
    caps: Caps = DEFAULT_CAPS

    def __post_init__(self) -> None:
        # Iterables given by the caller are kept as tuples, so the object stays immutable.
        object.__setattr__(self, "cors_allowed_origins", cors_origins(self.cors_allowed_origins))
        object.__setattr__(self, "transports", tuple(self.transports))
        check_durations(
            "EngineOptions",
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            upgrade_timeout=self.upgrade_timeout,
            close_timeout=self.close_timeout,
        )


#: The defaults of a bare Engine.IO server.
DEFAULT_ENGINE_OPTIONS = EngineOptions()


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


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Options of a Socket.IO server (`siox.Server`).

    Attributes:
        engine: the options of its Engine.IO server (the path is ``"/socket.io/"``).
        connect_timeout: seconds a connection may stay without joining a namespace.
        parser: ``"default"``, ``"msgpack"`` or a parser object (see `siox.socketio.parsers`).
        connection_state_recovery: the recovery options, or None when recovery is off.
        adapter: a callable ``namespace -> Adapter``, or None for the in-memory adapter.
        ordered_handlers: run one client's coroutine handlers one at a time, in order.
        cleanup_empty_child_namespaces: remove a child of a dynamic namespace once its last
            socket has left (on by default, unlike socket.io: a client must not be able to
            grow the server's memory without bound).
        serve_client: serve the official socket.io-client bundle under the endpoint path
            (off by default: no bundle ships with siox; see `siox.server.client_bundle`).
        client_bundle_dir: the folder holding that bundle, or None to find
            ``node_modules/socket.io-client`` beside the application.
        validate_events: check and convert event arguments with the handlers' type
            annotations (`siox.typed`).

    Raises:
        ValueError: ``connect_timeout`` above `MAX_DURATION` (milliseconds, surely).
    """

    engine: EngineOptions = field(default_factory=lambda: EngineOptions(path=_SOCKETIO_PATH))
    connect_timeout: float = 45.0
    parser: object = "default"
    connection_state_recovery: Recovery | None = None
    adapter: Callable[[Any], Any] | None = None
    ordered_handlers: bool = True
    cleanup_empty_child_namespaces: bool = True
    serve_client: bool = False
    client_bundle_dir: str | PathLike[str] | None = None
    validate_events: bool = False

    def __post_init__(self) -> None:
        check_durations("ServerOptions", connect_timeout=self.connect_timeout)

    @property
    def limits(self) -> Limits:
        """The size limits (those of the Engine.IO options)."""
        return self.engine.limits


#: The defaults of a Socket.IO server.
DEFAULT_SERVER_OPTIONS = ServerOptions()


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Options of a Socket.IO client (`siox.Client`); the fields are its keyword arguments.

    Attributes:
        reconnection: reconnect after the connection drops (and retry the first one).
        reconnection_delay: the first delay before reconnecting, seconds.
        reconnection_delay_max: the longest delay, seconds.
        randomization_factor: jitter of the delays, 0 to 1.
        reconnection_attempts: give up after this many attempts (None: never).
        protocol: Socket.IO revision: 5 (socket.io 3/4), or 4 for socket.io 2.x servers.
        path: the server's endpoint path.
        transports: the transports in order of preference; the first opens the connection.
        upgrade: allow the polling -> WebSocket upgrade.
        parser: ``"default"``, ``"msgpack"`` or a parser object (see `siox.socketio.parsers`).
        headers: extra request headers (sent on the WebSocket upgrade too).
        query: extra query parameters.
        ssl: None (verify certificates), an `ssl.SSLContext`, or False (no verification).
        proxy: an ``http://[user:password@]host[:port]`` proxy to tunnel through, or None.
        timeout: seconds for one connection attempt and for a namespace CONNECT's answer.
        cookies: keep the server's cookies and send them back.
        max_payload: the largest polling response or WebSocket message accepted, bytes.
        max_attachments: the most binary attachments accepted in one packet.
        max_depth: the deepest nesting of a packet's data accepted.
        max_fragments: the most frames one WebSocket message may have.
        per_message_deflate: offer permessage-deflate on WebSockets.
        retries: default ``retries`` of the sockets (0: off).
        ack_timeout: default ack timeout of the sockets, seconds (None: none).
        max_pending_acks: acks one socket may await at once (past it ``emit_with_ack`` raises
            `siox.errors.CapExceeded`); the default is the server's, `Caps.max_pending_acks`.
        add_trailing_slash: request ``path`` with a trailing slash added (``/socket.io/``);
            False requests it exactly as written.

    Raises:
        ValueError: a reconnection delay or ``timeout`` above `MAX_DURATION` (milliseconds,
            surely).
    """

    reconnection: bool = True
    reconnection_delay: float = 1.0
    reconnection_delay_max: float = 5.0
    randomization_factor: float = 0.5
    reconnection_attempts: int | None = None
    protocol: int = 5
    path: str = _SOCKETIO_PATH
    transports: tuple[str, ...] = _ALL_TRANSPORTS
    upgrade: bool = True
    parser: object = "default"
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None
    query: Mapping[str, str] | Iterable[tuple[str, str]] | None = None
    ssl: object = None
    proxy: str | None = None
    timeout: float = 20.0
    cookies: bool = True
    max_payload: int = 100_000_000
    max_attachments: int = DEFAULT_LIMITS.max_attachments
    max_depth: int = DEFAULT_LIMITS.max_depth
    max_fragments: int = DEFAULT_LIMITS.max_fragments
    per_message_deflate: bool = False
    retries: int = 0
    ack_timeout: float | None = None
    max_pending_acks: int | None = DEFAULT_CAPS.max_pending_acks
    add_trailing_slash: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "transports", tuple(str(t) for t in self.transports))
        check_durations(
            "ClientOptions", MAX_RECONNECTION_DELAY, reconnection_delay=self.reconnection_delay
        )
        check_durations(
            "ClientOptions",
            reconnection_delay_max=self.reconnection_delay_max,
            timeout=self.timeout,
        )

    @property
    def limits(self) -> Limits:
        """The client's limits as a `Limits` (``max_payload`` is its max_http_buffer_size)."""
        return Limits(
            max_http_buffer_size=self.max_payload,
            max_attachments=self.max_attachments,
            max_depth=self.max_depth,
            max_fragments=self.max_fragments,
        )

    def as_kwargs(self) -> dict[str, Any]:
        """The options as keyword arguments of `siox.Client`."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


#: The defaults of a Socket.IO client.
DEFAULT_CLIENT_OPTIONS = ClientOptions()


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """Options of the native front end (`siox.serve`, `siox.run`) and of shutdowns.

    Attributes:
        host: the address to listen on.
        port: the TCP port (0: any free port).
        shutdown_timeout: seconds a graceful shutdown waits for sessions to close.
        request_timeout: seconds one HTTP request may take to arrive (slow clients get 408);
            also how long a new connection may stay silent before its first request.
        keep_alive_timeout: seconds a kept-alive HTTP connection may stay idle between
            requests before it is closed (Node's ``keepAliveTimeout``: 5).
    """

    host: str = "127.0.0.1"
    port: int = 3000
    shutdown_timeout: float = 10.0
    request_timeout: float = 30.0
    keep_alive_timeout: float = 5.0


#: The defaults of the native front end.
DEFAULT_SERVE_OPTIONS = ServeOptions()
