"""`Client`: one connection to a Socket.IO server, multiplexing namespaces, with reconnection.

The role of socket.io-client 4.8's ``Manager``: it opens an Engine.IO session
(`siox.client.engine.EngineClient`), runs the Socket.IO packet layer on it
(`siox.socketio.connection.SocketConnection`, client role) and routes packets to its
`siox.client.socket.ClientSocket` objects, one per namespace. When the connection drops it
reconnects after exponential backoff with jitter (`siox.client.backoff.Backoff`), the first
connection included, and every active socket joins its namespace again (``auth`` re-sent).

Its own events, registered with `Client.on`: ``reconnect_attempt(attempt)``,
``reconnect(attempt)``, ``reconnect_error(error)``, ``reconnect_failed()``, as in
socket.io-client, plus ``open()`` and ``close(reason, description)``; they and the reconnection
policy are the mixin `siox.client.reconnection.Reconnection`.

(Over the 400-line soft cap: the options, documented where they are taken, and one connection's
transports and namespace multiplexing, which share its state.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from functools import partial
from typing import Any

from ..core.client import ClientConnection, ClientEvent
from ..core.events import ProtocolViolation
from ..engineio.events import Closed, CloseReason, Event, MessageReceived, Opened
from ..errors import NotConnected, SioxError
from ..http.deflate import DeflateOptions
from ..options import DEFAULT_CLIENT_OPTIONS, ClientOptions
from ..socketio.connection import SocketConnection
from ..socketio.events import AckReceived, Connected, ConnectRefused, Disconnected, EventReceived
from ..socketio.parsers import ParserLike, ParserSpec, check_parser, resolve_parser
from .backoff import Backoff
from .endpoint import CookieJar, SslOption, parse_endpoint
from .engine import EngineClient, describe
from .listeners import Listener
from .reconnection import CLIENT_EVENTS, Reconnection
from .socket import ClientSocket

__all__ = ["CLIENT_EVENTS", "Client"]

logger = logging.getLogger("siox.client")


class ClientState(Enum):
    """Where the client's connection is: closed, opening (the handshake), or open."""

    CLOSED = "closed"
    OPENING = "opening"
    OPEN = "open"


_CLOSED, _OPENING, _OPEN = ClientState.CLOSED, ClientState.OPENING, ClientState.OPEN

_DEFAULTS = DEFAULT_CLIENT_OPTIONS
#: How long `Client.close` waits for the goodbye to go out.
_CLOSE_WAIT = 3.0


class Client(Reconnection):
    """A connection to a Socket.IO server (socket.io-client's ``Manager``).

    Every option is keyword-only; the defaults live in `siox.options.ClientOptions`, and the
    options are kept, as a `ClientOptions`, in ``options``.

    Args:
        url: ``http(s)://`` or ``ws(s)://`` host and port; its query string is sent along.
        reconnection: reconnect after the connection drops (and retry the first one) (True).
        reconnection_delay: the first delay, seconds (1.0).
        reconnection_delay_max: the longest delay, seconds (5.0).
        randomization_factor: jitter, 0 to 1 (0.5).
        reconnection_attempts: give up after this many attempts (None: never).
        protocol: Socket.IO revision: 5 (socket.io 3/4, the default), or 4 for socket.io 2.x
            servers (Engine.IO v3; the main namespace is joined implicitly).
        path: the server's endpoint path (``"/socket.io/"``).
        transports: ``("polling", "websocket")`` (polling, then upgrade; the default),
            ``("websocket",)`` or ``("polling",)``; the first opens the connection.
        upgrade: allow the polling -> WebSocket upgrade (True).
        parser: ``"default"``, ``"msgpack"``, or a parser object: anything with
            ``encode(packet)`` and a ``Decoder`` class, such as the module
            `siox.parser.msgpack` (see `siox.socketio.parsers`).
        headers: extra request headers (sent on the WebSocket upgrade too) (None).
        query: extra query parameters (None).
        ssl: None (verify certificates, the default), an `ssl.SSLContext`, or False to turn
            verification off explicitly.
        proxy: an ``http://[user:password@]host[:port]`` proxy to tunnel every connection
            through (HTTP CONNECT), or None (the default: environment variables are not read).
        timeout: seconds for one connection attempt (TCP, TLS, Engine.IO handshake) and for
            the server's answer to a namespace CONNECT (20.0).
        cookies: keep the server's cookies and send them back (sticky load balancers) (True).
        max_payload: the largest polling response or WebSocket message accepted, bytes
            (100,000,000); the parser's decoder gets it too.
        max_attachments: the most binary attachments accepted in one packet (10).
        max_depth: the deepest nesting of a packet's data accepted (32).
        max_fragments: the most frames one WebSocket message may have (1024).
        per_message_deflate: offer permessage-deflate on WebSockets (False).
        retries: default ``retries`` of the sockets (0: off).
        ack_timeout: default ack timeout of the sockets, seconds (None: none).
        max_pending_acks: acks one socket may await at once, None for no cap (the server's
            default, ``Caps.max_pending_acks``); past it ``emit_with_ack`` raises
            `siox.errors.CapExceeded` and sends nothing.
        add_trailing_slash: request ``path`` with a trailing slash added (True); False
            requests it exactly as written.

    Raises:
        TypeError: an unknown option (a misspelled name), or a ``parser`` object without
            ``encode`` and ``Decoder``.
        ValueError: an option out of range, or an unknown parser name.
    """

    def __init__(
        self,
        url: str,
        *,
        reconnection: bool = _DEFAULTS.reconnection,
        reconnection_delay: float = _DEFAULTS.reconnection_delay,
        reconnection_delay_max: float = _DEFAULTS.reconnection_delay_max,
        randomization_factor: float = _DEFAULTS.randomization_factor,
        reconnection_attempts: int | None = _DEFAULTS.reconnection_attempts,
        protocol: int = _DEFAULTS.protocol,
        path: str = _DEFAULTS.path,
        transports: Iterable[str] = _DEFAULTS.transports,
        upgrade: bool = _DEFAULTS.upgrade,
        parser: ParserSpec = "default",
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = _DEFAULTS.headers,
        query: Mapping[str, str] | Iterable[tuple[str, str]] | None = _DEFAULTS.query,
        ssl: SslOption = None,
        proxy: str | None = _DEFAULTS.proxy,
        timeout: float = _DEFAULTS.timeout,
        cookies: bool = _DEFAULTS.cookies,
        max_payload: int = _DEFAULTS.max_payload,
        max_attachments: int = _DEFAULTS.max_attachments,
        max_depth: int = _DEFAULTS.max_depth,
        max_fragments: int = _DEFAULTS.max_fragments,
        per_message_deflate: bool = _DEFAULTS.per_message_deflate,
        retries: int = _DEFAULTS.retries,
        ack_timeout: float | None = _DEFAULTS.ack_timeout,
        max_pending_acks: int | None = _DEFAULTS.max_pending_acks,
        add_trailing_slash: bool = _DEFAULTS.add_trailing_slash,
    ) -> None:
        if protocol not in (4, 5):
            raise ValueError("protocol must be 5 (socket.io 3/4) or 4 (socket.io 2.x)")
        self.transports = tuple(str(t) for t in transports)
        if not self.transports or not set(self.transports) <= {"polling", "websocket"}:
            raise ValueError("transports must be a non-empty sequence of polling/websocket")
        if not timeout > 0:
            raise ValueError("timeout must be > 0")
        if reconnection_attempts is not None and reconnection_attempts < 0:
            raise ValueError("reconnection_attempts must be >= 0 or None")
        if retries < 0 or (ack_timeout is not None and not ack_timeout > 0):
            raise ValueError("retries must be >= 0 and ack_timeout > 0 or None")
        if max_pending_acks is not None and max_pending_acks < 1:
            raise ValueError("max_pending_acks must be >= 1 or None")
        spec = check_parser(parser)
        #: The options this client was built with.
        self.options = ClientOptions(
            reconnection=reconnection,
            reconnection_delay=reconnection_delay,
            reconnection_delay_max=reconnection_delay_max,
            randomization_factor=randomization_factor,
            reconnection_attempts=reconnection_attempts,
            protocol=protocol,
            path=path,
            transports=self.transports,
            upgrade=upgrade,
            parser=spec,
            headers=headers,
            query=query,
            ssl=ssl,
            proxy=proxy,
            timeout=timeout,
            cookies=cookies,
            max_payload=max_payload,
            max_attachments=max_attachments,
            max_depth=max_depth,
            max_fragments=max_fragments,
            per_message_deflate=per_message_deflate,
            retries=retries,
            ack_timeout=ack_timeout,
            max_pending_acks=max_pending_acks,
            add_trailing_slash=add_trailing_slash,
        )
        self.url = url
        self.endpoint = parse_endpoint(
            url,
            path=path,
            query=query,
            headers=headers,
            ssl=ssl,
            proxy=proxy,
            add_trailing_slash=add_trailing_slash,
        )
        self.protocol = protocol
        self.parser: ParserLike = resolve_parser(
            spec, protocol=protocol, limits=self.options.limits
        )
        self.timeout = timeout
        self.reconnection = reconnection
        self.reconnection_attempts = reconnection_attempts
        self.retries = retries
        self.ack_timeout = ack_timeout
        self._upgrade = upgrade
        self._max_payload = max_payload
        self._max_fragments = max_fragments
        self._deflate = DeflateOptions() if per_message_deflate else None
        self._cookies = CookieJar() if cookies else None
        self._backoff = Backoff(reconnection_delay, reconnection_delay_max, randomization_factor)
        self._sockets: dict[str, ClientSocket] = {}
        self._handlers: dict[str, Listener] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._engine: EngineClient | None = None
        self._conn: SocketConnection | None = None
        self._core: ClientConnection | None = None
        self._generation = 0
        self._state = _CLOSED
        self._reconnecting = False  # a reconnection is scheduled or under way
        self._attempting = False  # the session being opened is a reconnection attempt
        self._skip_reconnect = False
        self._reconnect_timer: asyncio.TimerHandle | None = None
        self._finishing: set[asyncio.Future[None]] = set()
        self._last_error: SioxError | None = None

    @classmethod
    def from_options(cls, url: str, options: ClientOptions) -> Client:
        """A client configured by a `ClientOptions` (its fields are this class's options)."""
        return cls(url, **options.as_kwargs())

    def __repr__(self) -> str:
        return f"<siox.Client {self.url} {self._state.value}>"

    # -- the application's side ----------------------------------------------------------------

    def socket(
        self,
        nsp: str = "/",
        *,
        auth: Any = None,
        retries: int | None = None,
        ack_timeout: float | None = None,
    ) -> ClientSocket:
        """The socket of namespace ``nsp`` (made on first use); `ClientSocket.connect` it.

        Args:
            nsp: the namespace, ``"/"`` by default.
            auth: the CONNECT payload: a dict, or a callable (sync or async) returning one,
                called for every (re)connection.
            retries: override the client's ``retries`` for this socket.
            ack_timeout: override the client's ``ack_timeout`` for this socket.
        """
        if not nsp.startswith("/"):
            nsp = "/" + nsp
        socket = self._sockets.get(nsp)
        if socket is None:
            socket = ClientSocket(
                self,
                nsp,
                auth,
                retries=self.retries if retries is None else retries,
                ack_timeout=self.ack_timeout if ack_timeout is None else ack_timeout,
            )
            self._sockets[nsp] = socket
        elif auth is not None:
            if (socket.connected or socket.active) and auth != socket.auth:
                raise ValueError(
                    f"namespace {nsp!r} is already connected (or connecting) with another "
                    "auth: disconnect it first, or pass a callable auth to change it on the "
                    "next reconnection"
                )
            socket.auth = auth
        return socket

    @property
    def connected(self) -> bool:
        """Whether the Engine.IO connection is open."""
        return self._state == _OPEN

    @property
    def transport(self) -> str | None:
        """The current transport (``polling``/``websocket``), None while disconnected."""
        return None if self._engine is None else self._engine.transport

    @property
    def sid(self) -> str | None:
        """The Engine.IO session id while connected."""
        return None if self._engine is None else self._engine.session.sid

    async def close(self) -> None:
        """Disconnect every socket and close the connection (waits a few seconds at most)."""
        for socket in list(self._sockets.values()):
            await socket.disconnect()
        self._close_engine()
        if self._finishing:
            await asyncio.wait(self._finishing, timeout=_CLOSE_WAIT)
        tasks = set(self._tasks)
        for socket in self._sockets.values():
            tasks |= socket.tasks
        current = asyncio.current_task()
        for task in tasks:
            if task is not current:
                task.cancel()

    # -- what sockets call ---------------------------------------------------------------------

    @property
    def engine(self) -> EngineClient | None:
        """The Engine.IO session, while there is one."""
        return self._engine

    def alive(self) -> bool:
        """Whether the connection is open (overdue heartbeat timers fired first)."""
        engine = self._engine
        if engine is None or self._state != _OPEN:
            return False
        engine.check_heartbeat()
        return self._engine is engine

    def send(self, messages: list[str | bytes], *, volatile: bool = False) -> None:
        """Send encoded messages on the connection (dropped when there is none)."""
        engine = self._engine
        if engine is not None:
            engine.send(messages, volatile=volatile)

    def join(self, nsp: str, auth: dict[str, Any] | None) -> bool:
        """Send CONNECT for ``nsp`` unless it is already joined or asked for."""
        core, engine = self._core, self._engine
        if core is None or engine is None or self._state != _OPEN:
            return False
        messages = core.join(nsp, auth)
        if messages is None:
            return False
        if messages:
            engine.send(messages)
        return True

    def leave(self, nsp: str) -> None:
        """Send DISCONNECT for ``nsp``."""
        conn, engine = self._conn, self._engine
        if conn is not None and engine is not None:
            engine.send(conn.disconnect(nsp))

    def socket_activated(self, socket: ClientSocket) -> None:
        """A socket wants to connect: open the connection, or join at once if open."""
        if self._state == _OPEN:
            socket.on_open()
        elif self._state == _CLOSED and not self._reconnecting:
            self._open()

    def socket_deactivated(self, socket: ClientSocket) -> None:
        """A socket stopped; the connection closes when no socket is active."""
        del socket
        if not any(s.active for s in self._sockets.values()):
            self._close_engine()

    def namespace_timed_out(self, socket: ClientSocket) -> None:
        """The server did not answer a CONNECT in time: treat the connection as broken."""
        error = NotConnected(f"no answer to CONNECT {socket.nsp!r} within {self.timeout:g} s")
        logger.warning("%s", error)
        self._drop(CloseReason.TRANSPORT_ERROR, error)

    # -- the connection ------------------------------------------------------------------------

    def _open(self) -> None:
        if self._state != _CLOSED:
            return
        self._state = _OPENING
        self._skip_reconnect = False
        self._generation += 1
        self._engine = engine = EngineClient(
            self.endpoint,
            partial(self._on_engine_event, self._generation),
            eio=4 if self.protocol == 5 else 3,
            transports=self.transports,
            upgrade=self._upgrade,
            timeout=self.timeout,
            max_payload=self._max_payload,
            max_fragments=self._max_fragments,
            cookies=self._cookies,
            deflate=self._deflate,
            parser=self.parser,
            on_socketio=partial(self._on_socketio, self._generation),
        )
        assert isinstance(engine.session, ClientConnection)
        self._core = engine.session
        self._conn = engine.session.socketio

    def _detach(self) -> EngineClient | None:
        """Forget the current session (its later events are ignored); return it."""
        engine, self._engine, self._conn, self._core = self._engine, None, None, None
        self._generation += 1
        self._state = _CLOSED
        if engine is not None:
            self._finishing.add(engine.finished)
            engine.finished.add_done_callback(self._finishing.discard)
        return engine

    def _close_engine(self) -> None:
        self._skip_reconnect = True
        self._reconnecting = self._attempting = False
        if self._reconnect_timer is not None:
            self._reconnect_timer.cancel()
            self._reconnect_timer = None
        self._backoff.reset()
        engine = self._detach()
        if engine is not None:
            engine.close()

    def _drop(self, reason: CloseReason, error: SioxError) -> None:
        """Close the session because of a problem found above Engine.IO, then reconnect."""
        engine = self._engine
        if engine is None:
            return
        opening = self._state == _OPENING
        self._detach()
        engine.abort(reason, describe(error))
        if opening:
            self._open_failed(error)
        else:
            self._closed(reason.value, describe(error), error)

    def _on_engine_event(self, generation: int, event: Event) -> None:
        if generation != self._generation:
            return
        kind = type(event)
        if kind is MessageReceived:
            self._on_message(event.data)  # type: ignore[union-attr]
        elif kind is Opened:
            self._on_open(event)  # type: ignore[arg-type]
        elif kind is Closed:
            opening = self._state == _OPENING
            engine = self._detach()
            if opening and engine is not None:
                self._open_failed(self._open_error(engine, event))  # type: ignore[arg-type]
            else:
                self._closed(event.reason.value, event.description)  # type: ignore[union-attr]

    def _open_error(self, engine: EngineClient, event: Closed) -> SioxError:
        cause = engine.error
        if isinstance(cause, SioxError):
            return cause
        detail = event.description or event.reason.value
        error = NotConnected(f"cannot connect to {self.endpoint.origin}: {detail}")
        error.__cause__ = cause
        return error

    def _on_open(self, event: Opened) -> None:
        self._state = _OPEN
        self._emit("open")
        for socket in list(self._sockets.values()):
            if socket.active:
                socket.on_open()
        if self._attempting:
            self._attempting = self._reconnecting = False
            attempt = self._backoff.attempts
            self._backoff.reset()
            self._emit("reconnect", attempt)

    def _on_message(self, data: str | bytes) -> None:
        core = self._core
        if core is not None:
            self._dispatch(core.decode(data))

    def _on_socketio(self, generation: int, events: Sequence[ClientEvent]) -> None:
        """The events of a message the engine's fast path decoded at once."""
        if generation == self._generation:
            self._dispatch(events)

    def _dispatch(self, events: Sequence[ClientEvent]) -> None:
        conn = self._conn
        if conn is None:
            return
        sockets = self._sockets
        event: Any  # narrowed by the `kind is ...` tests below
        for event in events:
            kind = type(event)
            if kind is ProtocolViolation:
                logger.warning("closing the connection: %s", event.cause.message)
                self._drop(CloseReason.PARSE_ERROR, event.cause)
                return
            socket = sockets.get(event.nsp)
            if socket is None:
                continue
            if kind is AckReceived:  # the usual one: a reply to emit_with_ack
                socket.on_ack(event.ack_id, event.args)
                continue  # (settling a future runs nothing now)
            if kind is EventReceived:
                if socket.connected:
                    socket.on_event(event.args, event.ack_id)
                elif socket.active:
                    socket.hold_event(event.args, event.ack_id)  # before the CONNECT reply
            elif kind is Connected:
                if socket.active:
                    socket.on_connected(event.sid, event.pid)
            elif kind is ConnectRefused:
                socket.on_refused(event.message, event.data)
            elif kind is Disconnected and socket.connected:
                socket.on_server_disconnect()
            if self._conn is not conn:
                return  # a handler closed the connection
