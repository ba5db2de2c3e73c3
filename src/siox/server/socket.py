"""`Socket`: the application's handle on one client in one namespace.

A handle is three things: the connection driver it writes through, its namespace (handlers,
adapter) and its id. It keeps the socket's own state (acks awaited, ``data``, whether it is
connected); membership lives in the adapter, sending in the driver.

(Over the 400-line soft cap: one socket's emits, acks, rooms and middlewares share its state; the
chained emitters are in `siox.server.socket_emitter`.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..adapters.base import BroadcastOptions
from ..errors import AckTimeout, CapExceeded, NotConnected
from ..options import Caps
from ..parser import Packet, PacketType
from ..socketio.conflation import EventConflation
from .engine_api import EngineConnection, Timers
from .events import check_event_name
from .operators import BroadcastOperator, reply_value
from .outgoing import Outgoing
from .socket_emitter import SocketEmitter

if TYPE_CHECKING:  # the namespace module imports this one; a socket only names its type
    from .namespace import Namespace

__all__ = ["Handshake", "Socket", "SocketDriver"]

AckCallback = Callable[[str, "list[Any] | None"], None]
#: a per-socket event middleware: ``middleware(socket, args)``, sync or async
Middleware = Callable[..., Any]


#: The acks table of a socket that waits for none (never written to: see `_register_ack`).
_NO_ACKS: dict[int, Callable[[list[Any] | None], None]] = {}


@dataclass(frozen=True, slots=True)
class _Held:
    """Messages held back until the CONNECT reply is out, with their write flags."""

    messages: list[str | bytes]
    volatile: bool
    compress: bool


@dataclass(frozen=True, slots=True)
class Handshake:
    """The connection's handshake details, as ``socket.handshake`` in socket.io.

    Attributes:
        headers: request headers (lower-case names).
        query: the handshake's query parameters.
        auth: the CONNECT payload (``{}`` when none was sent).
        address: the client's address.
        secure: whether the connection is TLS.
        url: the request URL.
        issued: when the connection was made (unix time, milliseconds).
        time: the same as a string.
    """

    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    auth: dict[str, Any] = field(default_factory=dict)
    address: str = ""
    secure: bool = False
    url: str = ""
    issued: int = 0
    time: str = ""


class SocketDriver(Protocol):
    """What a socket needs of the connection it lives on (`siox.server.driver`)."""

    @property
    def conn(self) -> EngineConnection:
        """The Engine.IO connection."""
        ...

    @property
    def timers(self) -> Timers:
        """The clock the connection's timeouts run on."""
        ...

    @property
    def parser_key(self) -> object:
        """Connections with equal keys encode packets alike (one encoding per broadcast)."""
        ...

    def encode(self, packet: Packet) -> list[str | bytes]:
        """The connection's encoding of ``packet``."""
        ...

    def write(
        self, messages: list[str | bytes], *, volatile: bool = False, compress: bool = True
    ) -> None:
        """Send encoded messages (``compress``: the ``socket.compress(flag)`` of the emit)."""
        ...

    def write_outgoing(self, outgoing: Outgoing) -> None:
        """Send shared pre-encoded messages."""
        ...

    def notify_outgoing(self, socket: Socket, args: list[Any]) -> None:
        """Tell the namespace's outgoing catch-all listeners about ``args``."""
        ...

    def leave_namespace(self, socket: Socket) -> None:
        """Send DISCONNECT for ``socket``'s namespace and close the socket."""
        ...

    def close_all(self, reason: str) -> None:
        """Disconnect every socket of the connection and close it."""
        ...

    def handshake(self, auth: dict[str, Any]) -> Handshake:
        """The `Handshake` of a socket whose CONNECT carried ``auth``."""
        ...

    @property
    def caps(self) -> Caps:
        """The server's caps (`siox.options.Caps`)."""
        ...


class Socket:
    """One client in one namespace.

    Attributes:
        id: the socket id (also the name of a room the socket is always in).
        namespace: the `siox.Namespace` the socket joined.
        handshake: see `Handshake`.
        data: free-form per-socket storage (kept by connection state recovery).
        recovered: whether this socket was restored by connection state recovery.
        connected: whether the socket is connected.
    """

    __slots__ = (
        "__weakref__",
        "_ack_counter",
        "_acks",
        "_auth",
        "_buffer",
        "_data",
        "_handshake",
        "connected",
        "driver",
        "id",
        "middlewares",
        "namespace",
        "pid",
        "recovered",
    )

    def __init__(
        self,
        driver: SocketDriver,
        namespace: Namespace,
        sid: str,
        handshake: Handshake | None = None,
        *,
        auth: dict[str, Any] | None = None,
    ) -> None:
        self.driver = driver
        self.namespace = namespace
        self.id = sid
        # None: made on first use, from the driver's request and ``auth`` (most sockets never
        # look at it: no ~200 bytes each for it).
        self._handshake = handshake
        self._auth = auth
        self._data: dict[str, Any] | None = None  # `data`, made on first use
        self.recovered = False
        self.connected = False
        self.pid: str | None = None
        self._acks: dict[int, Callable[[list[Any] | None], None]] = _NO_ACKS  # a dict once used
        self._ack_counter = 0
        #: per-socket event middlewares (`use`), run after the namespace's
        self.middlewares: Sequence[Middleware] = ()
        # Writes are held here until the CONNECT reply is out (None: write through).
        self._buffer: list[Outgoing | _Held] | None = []
        namespace.connecting(self)

    def __repr__(self) -> str:
        return f"<Socket {self.id} {self.namespace.name} connected={self.connected}>"

    @property
    def data(self) -> dict[str, Any]:
        """Free-form per-socket storage (kept by connection state recovery)."""
        data = self._data
        if data is None:
            data = self._data = {}
        return data

    @data.setter
    def data(self, value: dict[str, Any]) -> None:
        self._data = value

    @property
    def handshake(self) -> Handshake:
        """The connection's handshake details (see `Handshake`)."""
        handshake = self._handshake
        if handshake is None:
            auth, self._auth = self._auth, None
            handshake = self._handshake = self.driver.handshake({} if auth is None else auth)
        return handshake

    @property
    def nsp(self) -> str:
        """The namespace name."""
        return self.namespace.name

    @property
    def rooms(self) -> frozenset[str]:
        """The rooms this socket is in (its own id included)."""
        return self.namespace.adapter.local.rooms.rooms_of(self.id)

    @property
    def conn(self) -> EngineConnection:
        """The underlying Engine.IO connection (``socket.conn`` in socket.io)."""
        return self.driver.conn

    @property
    def transport(self) -> str:
        """The connection's current transport, ``"polling"`` or ``"websocket"``."""
        return self.driver.conn.transport

    # -- writing ----------------------------------------------------------------------------------

    def write_outgoing(self, outgoing: Outgoing) -> None:
        """Write shared pre-encoded messages (held back until the CONNECT reply is out)."""
        if self._buffer is not None:
            self._buffer.append(outgoing)
        elif self.connected:
            self.driver.write_outgoing(outgoing)

    def write(
        self, messages: list[str | bytes], volatile: bool = False, *, compress: bool = True
    ) -> None:
        """Write encoded messages (held back until the CONNECT reply is out).

        ``compress`` (`compress`'s flag) travels with the messages to `SocketDriver.write`.
        """
        if self._buffer is not None:
            self._buffer.append(_Held(messages, volatile, compress))
        elif self.connected:
            self._write_now(messages, volatile, compress)

    def _write_now(self, messages: list[str | bytes], volatile: bool, compress: bool) -> None:
        if compress:
            self.driver.write(messages, volatile=volatile)
        else:
            self.driver.write(messages, volatile=volatile, compress=False)

    def release(self) -> None:
        """The CONNECT reply is out: send what was held back, then write through."""
        buffered, self._buffer = self._buffer, None
        for item in buffered or ():
            if isinstance(item, Outgoing):
                self.driver.write_outgoing(item)
            else:
                self._write_now(item.messages, item.volatile, item.compress)

    def drop_held(self) -> None:
        """The connection was refused: what was held back is never sent."""
        self._buffer = None

    def notify_outgoing(self, args: list[Any]) -> None:
        """Tell the outgoing catch-all listeners about an emitted event."""
        self.driver.notify_outgoing(self, args)

    # -- emitting ---------------------------------------------------------------------------------

    async def emit(self, event: str, *args: Any) -> None:
        """Send ``event`` with ``args`` to this client (binary values allowed anywhere).

        With connection state recovery on, the packet is kept for the socket even while it
        is disconnected inside its recovery window, and replayed when it comes back (as
        socket.io does).
        """
        await self.emit_flagged(event, args, compress=True)

    async def send(self, *args: Any) -> None:
        """Send a ``"message"`` event (``socket.send`` in socket.io)."""
        await self.emit("message", *args)

    async def emit_flagged(self, event: str, args: tuple[Any, ...], *, compress: bool) -> None:
        """`emit` with the write flags of `compress`."""
        check_event_name(event)
        data = [event, *args]
        namespace = self.namespace
        packet = Packet(PacketType.EVENT, namespace.name, data)
        if namespace.recovery:
            # Through the adapter, so the packet gets an offset and is kept for recovery, even
            # while the socket is away (socket.io 4.8 does the same).
            options = BroadcastOptions(rooms=frozenset((self.id,)), compress=compress)
            await namespace.adapter.broadcast(packet, options)
            return
        if not self.connected:
            return
        if namespace.any_outgoing_listeners:
            self.notify_outgoing(data)
        self.write(self.driver.encode(packet), compress=compress)

    async def emit_with_ack(self, event: str, *args: Any, timeout: float | None = None) -> Any:
        """Send ``event`` and wait for the client's acknowledgement.

        Args:
            event: the event name.
            *args: its arguments.
            timeout: seconds to wait for the ack (None: until it comes or the socket goes).

        Returns:
            None, the value, or a tuple, for an ack with 0, 1 or several arguments.

        Raises:
            AckTimeout: no ack within ``timeout`` seconds.
            NotConnected: the socket disconnected first (or was not connected).
        """
        return await self.emit_with_ack_flagged(event, args, timeout=timeout, compress=True)

    async def emit_with_ack_flagged(
        self, event: str, args: tuple[Any, ...], *, timeout: float | None, compress: bool
    ) -> Any:
        """`emit_with_ack` with the write flags of `compress`."""
        check_event_name(event)
        if not self.connected:
            raise NotConnected(f"socket {self.id} is not connected")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def settle(args: list[Any] | None) -> None:
            if future.done():
                return
            if args is None:
                future.set_exception(NotConnected(f"socket {self.id} disconnected"))
            else:
                future.set_result(reply_value(args))

        ack_id = self._register_ack(settle)
        data = [event, *args]
        if self.namespace.any_outgoing_listeners:
            self.notify_outgoing(data)
        packet = Packet(PacketType.EVENT, self.namespace.name, data, ack_id)
        self.write(self.driver.encode(packet), compress=compress)
        if timeout is None:
            return await future

        def expire() -> None:
            if self._acks.pop(ack_id, None) is not None and not future.done():
                future.set_exception(AckTimeout(f"no ack for {event!r} within {timeout} s"))

        # On the connection's clock (the loop's, or a test's manual clock), not asyncio's.
        timer = self.driver.timers.call_later(timeout, expire)
        try:
            return await future
        finally:
            timer.cancel()

    def timeout(self, seconds: float) -> SocketEmitter:
        """Emits to this socket whose ack is awaited for ``seconds``.

        ``await socket.timeout(5).emit_with_ack("ask")`` is
        ``await socket.emit_with_ack("ask", timeout=5)``.
        """
        return SocketEmitter(self, timeout=seconds)

    def compress(self, flag: bool = True) -> SocketEmitter:
        """Emits to this socket with compression on or off (``socket.compress`` in socket.io).

        The flag travels with the packet to the connection (`SocketDriver.write`'s
        ``compress``); the engine layer decides what it means for each transport.
        """
        return SocketEmitter(self, compress=flag)

    def use(self, middleware: Middleware) -> Middleware:
        """Add a middleware ``(socket, args)`` run before each event of this socket.

        ``args[0]`` is the event name. It runs after the namespace's event middlewares
        (`siox.Namespace.use_event`); raising stops the event (the error goes to the
        server's error hook). Sync or async; usable as a decorator.

        Raises:
            TypeError: ``middleware`` is not callable.
        """
        if not callable(middleware):
            raise TypeError(f"a middleware must be callable, not {type(middleware).__name__}")
        self.middlewares = [*self.middlewares, middleware]
        return middleware

    def send_with_ack_callback(self, packet: Packet, on_reply: AckCallback) -> int | None:
        """Send ``packet`` with a fresh ack id; ``on_reply(socket id, args or None)`` follows.

        Returns:
            The ack id, or None when the socket is not connected (nothing sent, no reply).
        """
        if not self.connected:
            return None
        sid = self.id

        def settle(args: list[Any] | None) -> None:
            on_reply(sid, args)

        ack_id = self._register_ack(settle)
        if self.namespace.any_outgoing_listeners:
            self.notify_outgoing(packet.data)
        self.write(self.driver.encode(Packet(packet.type, packet.nsp, packet.data, ack_id)))
        return ack_id

    def forget_ack(self, ack_id: int) -> None:
        """Stop waiting for the ack ``ack_id`` (its broadcast timed out)."""
        self._acks.pop(ack_id, None)

    @property
    def pending_acks(self) -> int:
        """How many acks this socket still waits for."""
        return len(self._acks)

    def _register_ack(self, callback: Callable[[list[Any] | None], None]) -> int:
        cap = self.driver.caps.max_pending_acks
        if cap is not None and len(self._acks) >= cap:
            raise CapExceeded(f"{cap} acks already pending on socket {self.id} (max_pending_acks)")
        observer = getattr(self.driver, "observer", None)
        if observer is not None:
            callback = _timed_ack(self, callback, observer)
        ack_id = self._ack_counter
        self._ack_counter = (ack_id + 1) % 2**53
        if self._acks is _NO_ACKS:
            self._acks = {}
        self._acks[ack_id] = callback
        return ack_id

    def receive_ack(self, ack_id: int, args: list[Any]) -> None:
        """An ACK arrived; unknown or repeated ids are ignored (P16)."""
        callback = self._acks.pop(ack_id, None)
        if callback is not None:
            callback(args)

    def fail_acks(self) -> None:
        """The socket is gone: every pending ack gets ``None``."""
        acks, self._acks = self._acks, _NO_ACKS
        for callback in acks.values():
            callback(None)

    def conflate(self, *events: str) -> None:
        """Treat ``events`` as state, not history, while this client reads slowly.

        A packet of one of these events (sent without an ack) that is still waiting for the
        client is replaced by the next one of the same event (latest wins, in the older one's
        place in the queue) instead of queueing behind it; each replacement counts as a drop
        (logged once per interval). Everything else keeps its place, and a client whose
        backlog still passes ``max_buffer_size`` is disconnected (``"slow consumer"``).
        Volatile packets are never queued: a busy client misses them first. Text packets only
        (the default parser); the msgpack parser's packets are never conflated.
        """
        core = getattr(self.driver.conn, "core", None)  # the engine session (native or ASGI)
        if core is None:
            return
        key = core.conflation_key
        if not isinstance(key, EventConflation):
            key = core.conflation_key = EventConflation()
        key.add(self.nsp, *events)

    # -- rooms and broadcasting -------------------------------------------------------------------

    async def join(self, room: str | Iterable[str]) -> None:
        """Join ``room`` (a name or several); a disconnected socket joins nothing."""
        if not self.connected:
            return
        rooms = (room,) if isinstance(room, str) else tuple(room)
        cap = self.driver.caps.max_rooms_per_socket
        if cap is not None:
            current = self.rooms
            if len(current) + len(set(rooms) - current) > cap:
                raise CapExceeded(f"socket {self.id} would be in more than {cap} rooms")
        await self.namespace.adapter.add_all(self.id, rooms)

    async def leave(self, room: str) -> None:
        """Leave ``room``."""
        await self.namespace.adapter.delete(self.id, room)

    def _operator(self, options: BroadcastOptions) -> BroadcastOperator:
        return BroadcastOperator(self.namespace, options)

    def to(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Everyone in ``room`` except this socket."""
        return self.broadcast.to(room)

    in_ = to

    def except_(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Everyone but this socket and the sockets in ``room``."""
        return self.broadcast.except_(room)

    @property
    def broadcast(self) -> BroadcastOperator:
        """Everyone in the namespace except this socket."""
        return self._operator(BroadcastOptions(except_rooms=frozenset((self.id,))))

    @property
    def volatile(self) -> BroadcastOperator:
        """This socket only, dropping the packet if the client is not ready."""
        return self._operator(BroadcastOptions(rooms=frozenset((self.id,)), volatile=True))

    # -- leaving ----------------------------------------------------------------------------------

    async def disconnect(self, close: bool = False) -> None:
        """Disconnect from this namespace (and close the whole connection when ``close``)."""
        self.disconnect_now(close)

    def disconnect_now(self, close: bool = False) -> None:
        """`disconnect`, synchronously (what the adapter's bulk disconnect uses)."""
        if close:
            self.driver.close_all("forced server close")
        elif self.connected:
            self.driver.leave_namespace(self)


def _timed_ack(
    socket: Socket, callback: Callable[[list[Any] | None], None], observer: Any
) -> Callable[[list[Any] | None], None]:
    """``callback``, telling ``observer`` how long the ack took when it comes."""
    started = time.monotonic()

    def settle(args: list[Any] | None) -> None:
        if args is not None:
            observer.ack_received(socket, time.monotonic() - started)
        callback(args)

    return settle
