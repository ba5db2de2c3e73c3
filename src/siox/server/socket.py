"""`Socket`: the application's handle on one client in one namespace."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import AckTimeout, NotConnected
from ..parser import Packet, PacketType
from .adapter import BroadcastOptions
from .events import check_event_name
from .operators import BroadcastOperator, reply_value
from .outgoing import Outgoing

if TYPE_CHECKING:
    from .client import Client
    from .namespace import Namespace
    from .server import Server

__all__ = ["Handshake", "Socket"]

AckCallback = Callable[[str, "list[Any] | None"], None]


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


class Socket:
    """One client in one namespace.

    Attributes:
        id: the socket id (also the name of a room the socket is always in).
        namespace: the `siox.server.namespace.Namespace`.
        handshake: see `Handshake`.
        data: free-form per-socket storage (kept by connection state recovery).
        recovered: whether this socket was restored by connection state recovery.
    """

    __slots__ = (
        "_ack_counter",
        "_acks",
        "_buffer",
        "client",
        "connected",
        "data",
        "handshake",
        "id",
        "namespace",
        "pid",
        "recovered",
    )

    def __init__(
        self, namespace: Namespace, client: Client, sid: str, handshake: Handshake
    ) -> None:
        self.namespace = namespace
        self.client = client
        self.id = sid
        self.handshake = handshake
        self.data: dict[str, Any] = {}
        self.recovered = False
        self.connected = False
        self.pid: str | None = None
        self._acks: dict[int, Callable[[list[Any] | None], None]] = {}
        self._ack_counter = 0
        self._buffer: list[Outgoing | list[str | bytes]] | None = []

    def __repr__(self) -> str:
        return f"<Socket {self.id} {self.namespace.name} connected={self.connected}>"

    @property
    def server(self) -> Server:
        """The `siox.Server`."""
        return self.namespace.server

    @property
    def nsp(self) -> str:
        """The namespace name."""
        return self.namespace.name

    @property
    def rooms(self) -> frozenset[str]:
        """The rooms this socket is in (its own id included)."""
        return frozenset(self.namespace.adapter.socket_rooms(self.id))

    @property
    def transport(self) -> str:
        """The connection's current transport, ``"polling"`` or ``"websocket"``."""
        return self.client.conn.transport

    # -- writing ----------------------------------------------------------------------------------

    def write_outgoing(self, outgoing: Outgoing) -> None:
        """Write pre-encoded messages (held back until the CONNECT reply is out)."""
        if self._buffer is not None:
            self._buffer.append(outgoing)
        elif self.connected:
            self.client.write_outgoing(outgoing)

    def _write(self, messages: list[str | bytes], volatile: bool = False) -> None:
        if self._buffer is not None:
            self._buffer.append(messages)
        elif self.connected:
            self.client.write(messages, volatile=volatile)

    def _flush_buffer(self) -> None:
        buffered, self._buffer = self._buffer, None
        for item in buffered or ():
            if isinstance(item, Outgoing):
                self.client.write_outgoing(item)
            else:
                self.client.write(item)

    def notify_outgoing(self, args: list[Any]) -> None:
        """Tell the catch-all outgoing listeners about an emitted event."""
        for listener in self.namespace.any_outgoing_listeners:
            self.client.call_listener(listener, self, args)

    # -- emitting ---------------------------------------------------------------------------------

    async def emit(self, event: str, *args: Any) -> None:
        """Send ``event`` with ``args`` to this client (binary values allowed anywhere)."""
        self.emit_now(event, args)

    def emit_now(self, event: str, args: tuple[Any, ...] | list[Any]) -> None:
        """Synchronous `emit`, for code that is not async."""
        check_event_name(event)
        if not self.connected:
            return
        data = [event, *args]
        if self.namespace.server.recovery is not None:
            # Through the adapter, so the packet gets an offset and is kept for recovery.
            self.namespace.adapter.broadcast_now(
                Packet(PacketType.EVENT, self.namespace.name, data),
                BroadcastOptions(rooms=frozenset((self.id,))),
            )
            return
        if self.namespace.any_outgoing_listeners:
            self.notify_outgoing(data)
        self._write(self.client.encode(Packet(PacketType.EVENT, self.namespace.name, data)))

    async def emit_with_ack(self, event: str, *args: Any, timeout: float | None = None) -> Any:
        """Send ``event`` and wait for the client's acknowledgement.

        Returns:
            None, the value, or a tuple, for an ack with 0, 1 or several arguments.

        Raises:
            AckTimeout: no ack within ``timeout`` seconds.
            NotConnected: the socket disconnected first (or was not connected).
        """
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
        self._write(self.client.encode(Packet(PacketType.EVENT, self.namespace.name, data, ack_id)))
        if timeout is None:
            return await future
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._acks.pop(ack_id, None)
            raise AckTimeout(f"no ack for {event!r} within {timeout} s") from None

    def send_with_ack_callback(self, packet: Packet, on_reply: AckCallback) -> None:
        """Send ``packet`` with a fresh ack id; ``on_reply(socket id, args or None)`` follows."""
        sid = self.id

        def settle(args: list[Any] | None) -> None:
            on_reply(sid, args)

        if not self.connected:
            settle(None)
            return
        ack_id = self._register_ack(settle)
        ack_packet = Packet(packet.type, packet.nsp, packet.data, ack_id)
        if self.namespace.any_outgoing_listeners:
            self.notify_outgoing(packet.data)
        self._write(self.client.encode(ack_packet))

    def _register_ack(self, callback: Callable[[list[Any] | None], None]) -> int:
        ack_id = self._ack_counter
        self._ack_counter = (ack_id + 1) % 2**53
        self._acks[ack_id] = callback
        return ack_id

    def receive_ack(self, ack_id: int, args: list[Any]) -> None:
        """An ACK arrived; unknown or repeated ids are ignored (P16)."""
        callback = self._acks.pop(ack_id, None)
        if callback is not None:
            callback(args)

    def fail_acks(self) -> None:
        """The socket is gone: every pending ack gets ``None``."""
        acks, self._acks = self._acks, {}
        for callback in acks.values():
            callback(None)

    # -- rooms and broadcasting -------------------------------------------------------------------

    async def join(self, room: str | Iterable[str]) -> None:
        """Join ``room`` (a name or several); a disconnected socket joins nothing."""
        if not self.connected:
            return
        rooms = (room,) if isinstance(room, str) else tuple(room)
        await self.namespace.adapter.add_all(self.id, rooms)

    async def leave(self, room: str) -> None:
        """Leave ``room``."""
        await self.namespace.adapter.delete(self.id, room)

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
        return BroadcastOperator(
            self.namespace, BroadcastOptions(except_rooms=frozenset((self.id,)))
        )

    @property
    def volatile(self) -> BroadcastOperator:
        """This socket only, dropping the packet if the client is not ready."""
        return BroadcastOperator(
            self.namespace, BroadcastOptions(rooms=frozenset((self.id,)), volatile=True)
        )

    # -- leaving ----------------------------------------------------------------------------------

    async def disconnect(self, close: bool = False) -> None:
        """Disconnect from this namespace (and close the whole connection when ``close``)."""
        if close:
            self.client.close_all("forced server close")
            return
        if not self.connected:
            return
        self.client.write(self.client.session.disconnect(self.namespace.name))
        self.client.socket_closed(self, "server namespace disconnect")
