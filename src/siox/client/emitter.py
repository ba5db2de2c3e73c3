"""`ClientEmitter`: what a client socket sends, and the acks it waits for.

The emit side of socket.io-client 4.8's ``Socket``, mixed into `siox.client.socket.ClientSocket`:
``emit``, ``emit_with_ack`` (with ``timeout(s)`` and ``volatile``), the offline buffer that
holds emits made while disconnected, the retry queue of ``retries``, and the acks the socket
sends back to the server's events. Every ack awaited goes through `AckRegistry`, whose
``max_pending_acks`` cap (`siox.Client` option) bounds them: past it ``emit_with_ack`` raises
`siox.errors.CapExceeded` before anything is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CapExceeded
from ..parser import RESERVED_EVENTS, Packet, PacketType
from ..socketio.parsers import DefaultParser
from .acks import AckRegistry, RetryQueue
from .listeners import Listener, run_listener

if TYPE_CHECKING:
    from .client import Client

__all__ = ["ClientEmitter", "unpack_reply"]

logger = logging.getLogger("siox.client")

_UNSET: Any = object()
_EVENT, _ACK = PacketType.EVENT, PacketType.ACK


def unpack_reply(args: list[Any]) -> Any:
    """Arguments of an ack (or event) as a Python value: None, the value, or a tuple."""
    if not args:
        return None
    if len(args) == 1:
        return args[0]
    return tuple(args)


def _reply_args(value: Any) -> list[Any]:
    if value is None:
        return []
    if type(value) is tuple:
        return list(value)
    return [value]


def _check_event(event: Any) -> None:
    if not isinstance(event, str):
        raise TypeError(f"an event name is a str, not {type(event).__name__}")
    if event in RESERVED_EVENTS:
        raise ValueError(f"{event!r} is a reserved event name")


class _Timeout:
    """``socket.timeout(s)``: emits whose ack is awaited for ``s`` seconds."""

    __slots__ = ("_seconds", "_socket")

    def __init__(self, socket: ClientEmitter, seconds: float | None) -> None:
        self._socket = socket
        self._seconds = seconds

    async def emit_with_ack(self, event: str, *args: Any) -> Any:
        """`ClientSocket.emit_with_ack` with this timeout.

        Raises:
            AckTimeout: no ack in time.
            CapExceeded: ``max_pending_acks`` acks are already awaited on this socket.
            NotConnected: the connection dropped after the packet was sent.
        """
        return await self._socket.emit_with_ack(event, *args, timeout=self._seconds)


@dataclass(slots=True)
class _Buffered:
    """An emit waiting in the offline buffer."""

    payload: list[Any]
    messages: list[str | bytes]
    ack_id: int | None


class _Volatile:
    """``socket.volatile``: emits that are dropped rather than buffered."""

    __slots__ = ("_socket",)

    def __init__(self, socket: ClientEmitter) -> None:
        self._socket = socket

    async def emit(self, event: str, *args: Any) -> None:
        """Emit unless the connection cannot take it right now (then drop it)."""
        self._socket.send_event(event, args, volatile=True)


class ClientEmitter:
    """The emit side of a client socket: emits, acks awaited and sent, buffer and retries."""

    client: Client
    nsp: str
    connected: bool
    tasks: set[asyncio.Task[None]]
    _any_outgoing: list[Listener]

    def init_emitter(self, *, retries: int, ack_timeout: float | None) -> None:
        """Start with nothing sent, buffered or awaited."""
        self._ack_timeout = ack_timeout
        parser = self._parser = self.client.parser
        # The default parser encodes an EVENT from its fields (no `Packet`), as
        # `siox.socketio.connection.SocketConnection` does; any other parser gets the packet.
        self._encode: Callable[[PacketType, str, Any, int | None], list[str | bytes]] = (
            parser.parser.encode_fields
            if isinstance(parser, DefaultParser)
            else lambda t, n, d, i: parser.encode(Packet(t, n, d, i))
        )
        self._max_pending_acks = self.client.options.max_pending_acks
        self._acks = AckRegistry()
        self._buffer: list[_Buffered] = []
        self._queue = RetryQueue(retries, self._send_queued, self.is_connected)

    def is_connected(self) -> bool:
        """Whether the namespace is joined (``connected``, as a method)."""
        return self.connected

    @property
    def pending_acks(self) -> int:
        """How many acks this socket waits for (``max_pending_acks`` bounds them)."""
        return self._queue.acks if self._queue.retries else len(self._acks)

    async def send(self, *args: Any) -> None:
        """Send a ``"message"`` event (``socket.send`` in socket.io-client)."""
        self.send_event("message", args)

    def timeout(self, seconds: float | None) -> _Timeout:
        """Emits whose ack is awaited for ``seconds``: ``socket.timeout(5).emit_with_ack(...)``."""
        return _Timeout(self, seconds)

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event; buffered while disconnected, sent once after reconnecting.

        Raises:
            TypeError: the event name is not a str, or an argument cannot be encoded.
            ValueError: the event name is reserved.
        """
        self.send_event(event, args)

    @property
    def volatile(self) -> _Volatile:
        """Emit without buffering: ``await socket.volatile.emit("tick", n)``."""
        return _Volatile(self)

    async def emit_with_ack(self, event: str, *args: Any, timeout: float | None = _UNSET) -> Any:
        """Send an event and wait for its acknowledgement.

        Returns:
            None, the single argument, or a tuple, for 0, 1 or several ack arguments.

        Raises:
            AckTimeout: no ack within ``timeout`` seconds (default: the ``ack_timeout``
                option; None waits for ever); with ``retries``, once all tries timed out.
            CapExceeded: ``max_pending_acks`` acks are already awaited on this socket (the
                client option); nothing is sent.
            NotConnected: the connection dropped after the packet was sent.
        """
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        wait = self._ack_timeout if timeout is _UNSET else timeout
        ack_id = self.send_event(event, args, ack=future, timeout=wait)
        try:
            return unpack_reply(await future)
        except asyncio.CancelledError:  # nobody waits any more: free its place
            if ack_id is not None:
                self._acks.forget(ack_id)
            else:
                self._queue.forget(future)
            raise

    def send_event(
        self,
        event: str,
        args: tuple[Any, ...] | list[Any],
        *,
        ack: asyncio.Future[list[Any]] | None = None,
        timeout: float | None = None,
        volatile: bool = False,
        from_queue: bool = False,
    ) -> int | None:
        """Emit now, buffer, queue for retries or drop, as socket.io-client does.

        Returns:
            The ack id registered for ``ack``, or None (no ack, or queued for retries).

        Raises:
            CapExceeded: ``ack`` was asked for while ``max_pending_acks`` are awaited.
        """
        _check_event(event)
        payload = [event, *args]
        cap = self._max_pending_acks
        if cap is not None and ack is not None and not from_queue and self.pending_acks >= cap:
            raise CapExceeded(
                f"{cap} acks already pending on client socket {self.nsp!r} (max_pending_acks)"
            )
        if self._queue.retries and not from_queue and not volatile:
            self._parser.encode(Packet(_EVENT, self.nsp, payload, 0))  # fail now if unencodable
            self._queue.push(payload, ack)
            return None
        ack_id = None if ack is None else self._acks.next_id()
        messages = self._encode(_EVENT, self.nsp, payload, ack_id)
        if ack is not None and ack_id is not None:
            self._acks.register(ack_id, ack, timeout, self._unbuffer)
        if self.connected and self.client.alive():
            if self._any_outgoing:
                self._notify_outgoing(payload)
            self.client.send(messages, volatile=volatile)
        elif not volatile:
            self._buffer.append(_Buffered(payload, messages, ack_id))
        return ack_id

    def _send_queued(self, payload: list[Any], ack: asyncio.Future[list[Any]]) -> None:
        self.send_event(
            payload[0], payload[1:], ack=ack, timeout=self._ack_timeout, from_queue=True
        )

    def _unbuffer(self, ack_id: int) -> None:
        """An ack timed out: its packet, if still buffered, is not sent any more."""
        self._buffer = [item for item in self._buffer if item.ack_id != ack_id]

    def _notify_outgoing(self, payload: list[Any]) -> None:
        for listener in list(self._any_outgoing):
            run_listener(listener, payload, name="any outgoing", tasks=self.tasks)

    def _send_ack(self, ack_id: int, value: Any) -> None:
        if not self.connected:
            return
        try:
            messages = self._parser.encode(Packet(_ACK, self.nsp, _reply_args(value), ack_id))
        except (TypeError, ValueError):
            logger.exception("cannot encode the ack of a %r handler", self.nsp)
            return
        self.client.send(messages)

    def on_ack(self, ack_id: int, args: list[Any]) -> None:
        """The server acknowledged one of our events."""
        self._acks.resolve(ack_id, args)
