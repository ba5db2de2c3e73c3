"""The Socket.IO layer of one Engine.IO connection, sans-I/O, for the server and client roles.

One `SocketConnection` sits on each Engine.IO session. It owns the packet decoder, knows which
namespaces are joined, enforces the protocol-state rules of the reference server, and builds the
Engine.IO messages for everything sent. It does not allocate ack ids' futures, run handlers or
touch sockets: the asyncio layer above does, from the events returned by `receive`.

Rules (protocol.md 1.4-1.7, socket.io 4.8 ``client.ts``), each a fatal `InvalidPacket` for the
server role, after which the caller closes the Engine.IO session with reason "parse error"
(malformed packet) or "invalid state" (the rest), as the reference does:

* a CONNECT for a namespace already joined or being joined;
* any other packet for a namespace not joined (protocol 5);
* a CONNECT_ERROR sent by a client;
* an EVENT without a payload.

Protocol 4 (socket.io 2.x over Engine.IO v3): the main namespace is joined implicitly when the
session opens (`open_implicit`), a namespace's ``?query`` part is split off and handed up as the
``auth`` dict, refusals are ERROR packets, and socket ids derive from the Engine.IO sid.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .. import fastpaths
from ..errors import InvalidPacket
from ..parser import Packet, PacketType
from .events import (
    AckReceived,
    Connected,
    ConnectRefused,
    ConnectRequested,
    Disconnected,
    DisconnectRequested,
    EventReceived,
    SocketEvent,
    new_ack_received,
    new_event_received,
)
from .parsers import DefaultParser, ParserLike

__all__ = ["InvalidState", "SocketConnection"]

_NONE: frozenset[str] = frozenset()

_CONNECT, _DISCONNECT, _EVENT, _ACK, _CONNECT_ERROR, _BINARY_EVENT, _BINARY_ACK = PacketType


def _legacy_error_payload(message: str, data: Any) -> Any:
    """A protocol-4 ERROR payload: ``err.data || err.message``, as socket.io 4.8 and 2.x send.

    JavaScript's truthiness decides: ``None``, ``0``, ``""``, ``False`` give the message, ``{}``
    is truthy. An ERROR payload is a string or an object (socket.io-parser's rule, which the
    encoder enforces), so other data (a number, a list) gives the message too, where the
    reference would send it as it is.
    """
    if isinstance(data, dict) or (isinstance(data, str) and data):
        return data
    return message


class InvalidState(InvalidPacket):
    """A well-formed packet that the connection's state does not allow."""


class SocketConnection:
    """Socket.IO packets of one Engine.IO session.

    Args:
        parser: the parser object (see `siox.socketio.parsers.resolve_parser`).
        role: ``"server"`` or ``"client"``.
        protocol: Socket.IO revision, 5 or 4.
        eio_sid: the Engine.IO session id (protocol 4 derives socket ids from it).
    """

    __slots__ = (
        "_decoder",
        "_encode",
        "_parse_text",
        "connected",
        "eio_sid",
        "parser",
        "pending",
        "protocol",
        "role",
    )

    def __init__(
        self,
        parser: ParserLike,
        *,
        role: str = "server",
        protocol: int = 5,
        eio_sid: str | None = None,
    ) -> None:
        if role not in ("server", "client"):
            raise ValueError("role must be 'server' or 'client'")
        self.parser = parser
        self.role = role
        self.protocol = protocol
        self.eio_sid = eio_sid
        self._decoder = parser.new_decoder()
        # The default parser can decode a text packet and encode one without `Packet` objects;
        # the per-message paths below use that when they can.
        default = parser if isinstance(parser, DefaultParser) else None
        self._parse_text = default.parse_text if default is not None else None
        self._encode = (
            default.encode_fields
            if default is not None
            else lambda t, n, d, i: parser.encode(Packet(t, n, d, i))
        )
        #: namespaces joined (CONNECT answered)
        self.connected: set[str] = set()
        #: namespaces asked for and not answered yet (a set only while there are some)
        self.pending: AbstractSet[str] = _NONE

    def _pend(self, nsp: str) -> None:
        if self.pending is _NONE:
            self.pending = {nsp}
        else:
            self.pending.add(nsp)  # type: ignore[attr-defined]  # a set once not `_NONE`

    def _unpend(self, nsp: str) -> None:
        pending = self.pending
        if nsp in pending:
            pending.discard(nsp)  # type: ignore[attr-defined]
            if not pending:
                self.pending = _NONE  # an answered connection holds no empty set

    # -- receiving ------------------------------------------------------------------------

    def receive(self, data: str | bytes) -> list[SocketEvent]:
        """Take one Engine.IO message; return what happened.

        Raises:
            InvalidPacket: malformed packet ("parse error").
            InvalidState: a packet the state does not allow ("invalid state").
        """
        parse_text = self._parse_text
        if (
            fastpaths.ENABLED
            and parse_text is not None
            and type(data) is str
            # the default `Decoder`'s ``reconstructing``, without the property's call
            and self._decoder._header is None  # type: ignore[attr-defined]
        ):
            # Fast path (`siox.fastpaths`): a text EVENT/ACK for a joined namespace becomes its
            # event without a `Packet`; `_server_event` and `_client_event` would give the same
            # event (for a namespace not joined they differ: the general path decides).
            header = parse_text(data)
            ptype, nsp, payload, ack_id, attachments = header
            if not attachments and nsp in self.connected:
                if ptype is _EVENT and payload is not None:
                    return [new_event_received(nsp, payload, ack_id)]
                if ptype is _ACK and ack_id is not None:
                    return [new_ack_received(nsp, ack_id, payload or [])]
            # The general path decides the rest (and the errors), without parsing the text again.
            packets = self._decoder.feed_parsed(header)  # type: ignore[attr-defined]
        else:
            packets = self._decoder.feed(data)
        if not packets:
            return []
        if self.role == "server":
            return [self._server_event(packet) for packet in packets]
        return [event for packet in packets if (event := self._client_event(packet)) is not None]

    def _server_event(self, packet: Packet) -> SocketEvent:
        ptype = packet.type
        nsp = packet.nsp
        if ptype is _EVENT or ptype is _BINARY_EVENT:
            if nsp not in self.connected:
                raise InvalidState(f"event for namespace {nsp!r} which is not connected")
            args = packet.data
            if args is None:
                raise InvalidPacket("EVENT without payload")
            return EventReceived(nsp, args, packet.id)
        if ptype is _ACK or ptype is _BINARY_ACK:
            if nsp not in self.connected:
                raise InvalidState(f"ack for namespace {nsp!r} which is not connected")
            if packet.id is None:
                raise InvalidPacket("ACK without id")
            return AckReceived(nsp, packet.id, packet.data or [])
        if ptype is _CONNECT:
            auth: dict[str, Any]
            if self.protocol < 5:
                nsp, _, query = nsp.partition("?")
                auth = dict(parse_qsl(query, keep_blank_values=True))
            else:
                auth = packet.data if packet.data is not None else {}
            if nsp in self.connected or nsp in self.pending:
                raise InvalidState(f"namespace {nsp!r} is already connected")
            self._pend(nsp)
            return ConnectRequested(nsp, auth)
        if ptype is _DISCONNECT:
            if nsp not in self.connected:
                if self.protocol < 5:
                    return DisconnectRequested(nsp)  # socket.io 2.x tolerated it
                raise InvalidState(f"disconnect from namespace {nsp!r} which is not connected")
            self.connected.discard(nsp)
            return DisconnectRequested(nsp)
        raise InvalidState("a client may not send CONNECT_ERROR")

    def _client_event(self, packet: Packet) -> SocketEvent | None:
        ptype = packet.type
        nsp = packet.nsp
        if ptype is _EVENT or ptype is _BINARY_EVENT:
            if packet.data is None or (nsp not in self.connected and nsp not in self.pending):
                return None  # socket.io-client drops packets for sockets it does not have
            # A pending namespace gets its events too: a server restoring a session (state
            # recovery) sends the missed packets before the CONNECT reply, and socket.io-client
            # buffers them until it is connected.
            return EventReceived(nsp, packet.data, packet.id)
        if ptype is _ACK or ptype is _BINARY_ACK:
            if nsp not in self.connected or packet.id is None:
                return None
            return AckReceived(nsp, packet.id, packet.data or [])
        if ptype is _CONNECT:
            if nsp not in self.pending:
                return None
            sid, pid = self._connect_reply_ids(nsp, packet.data)
            self._unpend(nsp)
            self.connected.add(nsp)
            return Connected(nsp, sid, pid)
        if ptype is _CONNECT_ERROR:
            if nsp not in self.pending and nsp not in self.connected:
                return None
            self._unpend(nsp)
            self.connected.discard(nsp)
            data = packet.data
            if isinstance(data, dict) and self.protocol < 5:
                # A 2.x server sends ``err.data || err.message``: the object is the data.
                message = data.get("message")
                return ConnectRefused(nsp, message if isinstance(message, str) else "", data)
            if isinstance(data, dict):
                return ConnectRefused(nsp, str(data.get("message", "")), data.get("data"))
            return ConnectRefused(nsp, str(data) if data is not None else "", data)
        if nsp not in self.connected:
            return None
        self.connected.discard(nsp)
        return Disconnected(nsp)

    def _connect_reply_ids(self, nsp: str, data: Any) -> tuple[str, str | None]:
        if self.protocol < 5:
            return self.legacy_socket_id(nsp), None
        if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
            raise InvalidPacket("CONNECT reply without a string sid")
        pid = data.get("pid")
        if pid is not None and not isinstance(pid, str):
            raise InvalidPacket("CONNECT reply with a non-string pid")
        return data["sid"], pid

    def legacy_socket_id(self, nsp: str) -> str:
        """Socket id of a protocol-4 session: the Engine.IO sid, ``nsp#sid`` off the main one."""
        sid = self.eio_sid or ""
        return sid if nsp == "/" else f"{nsp}#{sid}"

    # -- sending: server role ---------------------------------------------------------------

    def open_implicit(self, auth: dict[str, Any]) -> ConnectRequested:
        """Protocol 4: the session's opening is a CONNECT to the main namespace.

        The seed's rule, unchanged through revision 4: "the server behaves as if the client had
        sent a CONNECT packet to the / namespace". socket.io 4.8 passes ``auth={}``.
        """
        self._pend("/")
        return ConnectRequested("/", auth)

    def accept(self, nsp: str, sid: str, pid: str | None = None) -> list[str | bytes]:
        """Answer a `ConnectRequested` positively."""
        self._unpend(nsp)
        self.connected.add(nsp)
        if self.protocol < 5:
            return self.parser.encode(Packet(_CONNECT, nsp))
        data = {"sid": sid} if pid is None else {"sid": sid, "pid": pid}
        return self.parser.encode(Packet(_CONNECT, nsp, data))

    def refuse(self, nsp: str, message: str, data: Any = None) -> list[str | bytes]:
        """Answer a `ConnectRequested` negatively (CONNECT_ERROR; ERROR in protocol 4)."""
        self._unpend(nsp)
        if self.protocol < 5:
            payload = _legacy_error_payload(message, data)
            return self.parser.encode(Packet(_CONNECT_ERROR, nsp, payload))
        payload = {"message": message} if data is None else {"message": message, "data": data}
        return self.parser.encode(Packet(_CONNECT_ERROR, nsp, payload))

    def forget(self, nsp: str) -> None:
        """The namespace is gone locally (handler refused late, socket closed)."""
        self.connected.discard(nsp)
        self._unpend(nsp)

    # -- sending: both roles ----------------------------------------------------------------

    def event(self, nsp: str, args: list[Any], ack_id: int | None = None) -> list[str | bytes]:
        """Messages for an EVENT (``args[0]`` is the name)."""
        return self._encode(_EVENT, nsp, args, ack_id)

    def ack(self, nsp: str, ack_id: int, args: list[Any]) -> list[str | bytes]:
        """Messages for an ACK."""
        return self._encode(_ACK, nsp, args, ack_id)

    def disconnect(self, nsp: str) -> list[str | bytes]:
        """Messages for a DISCONNECT, and the namespace is left."""
        self.connected.discard(nsp)
        self._unpend(nsp)
        return self.parser.encode(Packet(_DISCONNECT, nsp))

    # -- sending: client role ---------------------------------------------------------------

    def connect(self, nsp: str, auth: dict[str, Any] | None = None) -> list[str | bytes]:
        """Client role: ask to join ``nsp``."""
        self._pend(nsp)
        if self.protocol < 5:
            if nsp == "/":
                return []  # joined implicitly when the session opened
            # socket.io-client 2.x sends its credentials as the namespace's query string
            # ("0/admin?token=secret"); a 2.x server reads them into socket.handshake.query.
            query = f"?{urlencode(auth)}" if auth else ""
            return self.parser.encode(Packet(_CONNECT, nsp + query))
        return self.parser.encode(Packet(_CONNECT, nsp, auth))
