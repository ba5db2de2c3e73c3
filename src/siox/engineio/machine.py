"""The state machine both Engine.IO session roles share: states, the transition table, the core.

`TRANSITIONS` is the whole truth about which state follows which: a session changes state only
through `SessionCore._move`, which looks the pair up and refuses (``RuntimeError``, a siox bug)
any pair not in the table. The table is data so tests can enumerate it and docs can draw it.
`SessionCore` holds what both roles need: the state, the queued events and outputs, the
bounded outbox, the heartbeat, the timers and the application-facing ``send``.

(Over the 400-line soft cap since the direct-write fast path and the pump's ``drain`` joined
the core: they belong next to the outbox and outputs they read.)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from enum import Enum
from types import MappingProxyType

from .. import fastpaths
from ..errors import InvalidPacket
from ..options import DEFAULT_LIMITS
from .events import Closed, CloseReason, Event
from .handshake import Transport
from .heartbeat import Heartbeat
from .outbox import Outbox, packet_size
from .outputs import BINARY_CONTENT_TYPE, Output, WebSocketClose, WebSocketSend
from .packet import (
    EnginePacket,
    EnginePacketType,
    check_eio,
    decode_packet,
    encode_message,
    encode_packet,
)

__all__ = [
    "DEFAULT_MAX_BUFFER_SIZE",
    "TRANSITIONS",
    "WS_NORMAL",
    "WS_POLICY_VIOLATION",
    "WS_PROTOCOL_ERROR",
    "WS_TOO_BIG",
    "SessionCore",
    "State",
    "Trigger",
    "WebSocketRole",
    "is_binary_content",
    "text_exceeds",
]

#: Default outgoing buffer limit (``max_buffer_size``), bytes.
DEFAULT_MAX_BUFFER_SIZE = DEFAULT_LIMITS.max_buffer_size
WS_NORMAL = 1000
WS_PROTOCOL_ERROR = 1002
WS_POLICY_VIOLATION = 1008
WS_TOO_BIG = 1009


class State(Enum):
    """The life cycle of a session."""

    OPENING = "opening"  # client: waiting for the OPEN packet (a server is born OPEN)
    OPEN = "open"
    UPGRADING = "upgrading"  # OPEN on long-polling, with a WebSocket probe attached
    CLOSING = "closing"  # local close(): flushing what is queued, then the close itself
    CLOSED = "closed"


class Trigger(Enum):
    """What makes a session change state."""

    HANDSHAKE = "handshake"  # server: OPEN packet queued; client: OPEN packet received
    PROBE_STARTED = "probe started"  # a WebSocket attached to probe an upgrade
    UPGRADE_DONE = "upgrade done"  # the UPGRADE packet switched transports
    PROBE_FAILED = "probe failed"  # the probe WebSocket closed, timed out or misbehaved
    CLOSE_REQUESTED = "close requested"  # the application called close()
    CLOSED = "closed"  # the session ended (peer close, error, timeout, or close() finished)


_S, _T = State, Trigger
#: Every legal (state, trigger) -> next state. Anything else is a siox bug.
TRANSITIONS: Mapping[tuple[State, Trigger], State] = MappingProxyType(
    {
        (_S.OPENING, _T.HANDSHAKE): _S.OPEN,
        (_S.OPENING, _T.CLOSED): _S.CLOSED,
        (_S.OPEN, _T.PROBE_STARTED): _S.UPGRADING,
        (_S.OPEN, _T.CLOSE_REQUESTED): _S.CLOSING,
        (_S.OPEN, _T.CLOSED): _S.CLOSED,
        (_S.UPGRADING, _T.UPGRADE_DONE): _S.OPEN,
        (_S.UPGRADING, _T.PROBE_FAILED): _S.OPEN,
        (_S.UPGRADING, _T.CLOSE_REQUESTED): _S.CLOSING,
        (_S.UPGRADING, _T.CLOSED): _S.CLOSED,
        # A server may finish (or lose) an upgrade while it flushes before closing.
        (_S.CLOSING, _T.UPGRADE_DONE): _S.CLOSING,
        (_S.CLOSING, _T.PROBE_FAILED): _S.CLOSING,
        (_S.CLOSING, _T.CLOSED): _S.CLOSED,
    }
)


class WebSocketRole(Enum):
    """What the one WebSocket a session may have attached is for."""

    PROBE = "probe"
    TRANSPORT = "transport"


def is_binary_content(content_type: str | None) -> bool:
    """Whether a Content-Type header names ``application/octet-stream`` (parameters ignored)."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == BINARY_CONTENT_TYPE


def _utf8_ok(text: str) -> bool:
    """Whether ``text`` can be sent as UTF-8 (it holds no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_exceeds(frame: str | bytes, limit: int) -> bool:
    """Whether ``frame`` is more than ``limit`` bytes (UTF-8 for text), measuring only if needed."""
    size = len(frame)
    if isinstance(frame, bytes) or size > limit or 4 * size <= limit or frame.isascii():
        return size > limit
    return len(frame.encode("utf-8", "surrogatepass")) > limit


_CLOSED = State.CLOSED
_OPENING = State.OPENING
_FORCED_CLOSE = CloseReason.FORCED_CLOSE
_OPEN = State.OPEN
_POLLING = Transport.POLLING
_MESSAGE_TYPE = EnginePacketType.MESSAGE
_new = object.__new__
_set_type = vars(EnginePacket)["type"].__set__
_set_data = vars(EnginePacket)["data"].__set__
_set_compress = vars(EnginePacket)["compress"].__set__
_TRANSPORT = WebSocketRole.TRANSPORT


class SessionCore:
    """State, events, outputs, outbox, heartbeat and timers shared by both roles.

    Subclasses implement `_flush` (move queued packets to the wire when the transport allows),
    `_writable_now`, `_terminate` (end the session at once), `_abort_probe` (give up an
    upgrade attempt) and `handle_timer`.
    """

    __slots__ = (
        "_b64",
        "_close_deadline",
        "_close_reason",
        "_eio",
        "_events",
        "_heartbeat",
        "_noop_at",
        "_outbox",
        "_outputs",
        "_state",
        "_transport",
        "_upgrade_deadline",
        "_ws",
        "_ws_paused",
        "close_timeout",
        "conflation_key",
        "dropped",
        "max_payload",
        "upgrade_timeout",
    )

    #: States in which ``send`` queues a message (others drop it).
    _SENDABLE: frozenset[State] = frozenset({State.OPEN, State.UPGRADING})

    def __init__(
        self,
        transport: Transport,
        eio: int,
        b64: bool,
        upgrade_timeout: float,
        close_timeout: float,
        max_payload: int,
        max_buffer_size: int = DEFAULT_MAX_BUFFER_SIZE,
    ) -> None:
        check_eio(eio)
        for name, value in (("upgrade_timeout", upgrade_timeout), ("close_timeout", close_timeout)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0, not {value!r}")
        if max_payload <= 0 or max_buffer_size < 0:
            raise ValueError("max_payload must be > 0 and max_buffer_size >= 0")
        self._eio = eio
        self._b64 = b64
        self._transport = transport if type(transport) is Transport else Transport(transport)
        self.upgrade_timeout = upgrade_timeout
        self.close_timeout = close_timeout
        self.max_payload = max_payload
        self._state = _OPENING
        self._events: list[Event] = []
        self._outputs: list[Output] = []
        self._outbox = Outbox(max_buffer_size)
        self._heartbeat: Heartbeat | None = None
        self._ws: WebSocketRole | None = None
        self._ws_paused = False
        self._upgrade_deadline: float | None = None
        self._close_deadline: float | None = None
        self._noop_at: float | None = None
        self._close_reason = _FORCED_CLOSE
        #: ``key(data)`` of a message that may replace a queued one with the same key (latest
        #: wins, for state-like messages), or None for plain FIFO (`Outbox.push`).
        self.conflation_key: Callable[[str | bytes], Hashable | None] | None = None
        #: messages dropped so far: volatile ones that met a busy transport, and queued ones
        #: replaced by a newer message with the same conflation key.
        self.dropped = 0

    # -- what the driver reads ------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The current state."""
        return self._state

    @property
    def closed(self) -> bool:
        """Whether the session is over."""
        return self._state is State.CLOSED

    @property
    def eio(self) -> int:
        """The Engine.IO revision, 4 or 3."""
        return self._eio

    @property
    def b64(self) -> bool:
        """Whether binary messages travel as base64 text (the client asked with ``b64``)."""
        return self._b64

    @property
    def transport(self) -> Transport:
        """The current transport (WebSocket once an upgrade is done)."""
        return self._transport

    @property
    def buffered_amount(self) -> int:
        """Bytes of messages accepted by ``send`` and not yet handed to the driver."""
        return self._outbox.size

    @property
    def writable_directly(self) -> bool:
        """Whether the driver may write WebSocket frames itself, bypassing the outbox.

        True, unless the fast paths are off (`siox.fastpaths`), on an open WebSocket transport
        with nothing queued, no write pause and no output the driver has yet to collect
        (``data_to_send()``), so bytes written by the driver (a broadcast's shared frames, the
        frames `send_direct` returns) cannot overtake earlier ones.
        """
        return (
            fastpaths.ENABLED
            and self._ws is WebSocketRole.TRANSPORT
            and self._state is State.OPEN
            and not self._ws_paused
            and not self._outbox
            and not self._outputs
        )

    def events_received(self) -> list[Event]:
        """Return and forget the events queued since the last call, oldest first."""
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[Output]:
        """Return and forget what the driver must put on the wire, in order."""
        outputs, self._outputs = self._outputs, []
        return outputs

    def drain(self) -> tuple[list[Output], list[Event]] | None:
        """`data_to_send()` and `events_received()` in one call; None when both are empty.

        For a driver's pump, which asks after every input: perform the outputs, then report
        the events, then ask again.
        """
        outputs = self._outputs
        events = self._events
        if not outputs and not events:
            return None
        self._outputs = []
        self._events = []
        return outputs, events

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` must be called next (None: no timer armed)."""
        # The driver asks after every input: unrolled, as a list and min() cost twice as much.
        if self._state is _CLOSED:
            return None
        best = None
        heartbeat = self._heartbeat
        if heartbeat is not None:
            best = heartbeat.ping_at
            deadline = heartbeat.deadline
            if best is None or (deadline is not None and deadline < best):
                best = deadline
        deadline = self._upgrade_deadline
        if deadline is not None and (best is None or deadline < best):
            best = deadline
        deadline = self._close_deadline
        if deadline is not None and (best is None or deadline < best):
            best = deadline
        deadline = self._noop_at
        if deadline is not None and (best is None or deadline < best):
            best = deadline
        return best

    def handle_timer(self, now: float) -> None:  # pragma: no cover - both roles override it
        """Fire every deadline that is due at ``now``."""
        raise NotImplementedError

    # -- what the application calls -------------------------------------------------------------

    def send(
        self,
        data: str | bytes | bytearray | memoryview,
        *,
        volatile: bool = False,
        compress: bool = True,
    ) -> bool:
        r"""Queue one message for the peer.

        Args:
            data: ``str`` for a text message, bytes-like for a binary one.
            volatile: drop the message instead of queueing it when the transport cannot take it
                right now (no pending poll, WebSocket paused), as socket.io's ``volatile``.
            compress: whether the transport may compress it (socket.io's ``compress`` flag).

        Fast path (`siox.fastpaths`): ASCII text to an OPEN session, neither volatile nor
        conflated, is queued without the checks it cannot fail.

        Returns:
            True when the message was queued or sent; False when it was dropped: the session is
            not open, a volatile message met a busy transport, or the outgoing buffer limit was
            crossed (the session is then closed with reason "transport error").

        Raises:
            TypeError: ``data`` is neither str nor bytes-like.
            ValueError: the text holds a lone surrogate, or (v4 long-polling only) the record
                separator ``"\x1e"``, which a polling payload cannot carry.
        """
        key = None
        if (
            fastpaths.ENABLED
            and type(data) is str
            and self._state is _OPEN
            and not volatile
            and self.conflation_key is None
            and data.isascii()
            and ("\x1e" not in data or self._eio != 4 or self._transport is not _POLLING)
        ):
            # The fast path: ASCII text to an open session, nothing to check or drop.
            packet = _new(EnginePacket)  # the frozen dataclass's __init__, without the call
            _set_type(packet, _MESSAGE_TYPE)
            _set_data(packet, data)
            _set_compress(packet, compress)
            size = 1 + len(data)
        else:
            if isinstance(data, (bytearray, memoryview)):
                data = bytes(data)
            elif not isinstance(data, (str, bytes)):
                raise TypeError(f"a message is str or bytes, not {type(data).__name__}")
            packet = EnginePacket(EnginePacketType.MESSAGE, data, compress)
            size = packet_size(packet)
            if (
                isinstance(data, str)
                and self._eio == 4
                and self._transport is Transport.POLLING
                and "\x1e" in data
            ):
                raise ValueError("a v4 long-polling message cannot contain the separator '\\x1e'")
            if self._state not in self._SENDABLE:
                return False
            if volatile and not self._writable_now():
                self.dropped += 1
                return False
            key = None if self.conflation_key is None else self.conflation_key(data)
            if key is not None and self._outbox.replace(key, packet, size):
                self.dropped += 1  # the queued one is superseded; nothing new to flush
                return True
        outbox = self._outbox
        outbox.push(packet, size, key)
        self._flush()
        if outbox.size > outbox.limit:  # `overflowing`, inline
            self._terminate(
                CloseReason.SLOW_CONSUMER,
                f"outgoing buffer limit exceeded ({self._outbox.limit} bytes): slow consumer",
                ws_code=WS_POLICY_VIOLATION,
            )
            return False
        return True

    def send_direct(
        self,
        data: str | bytes | bytearray | memoryview,
        *,
        volatile: bool = False,
        compress: bool = True,
    ) -> str | bytes | None:
        """`send` one message, or hand its frame back for the driver to write at once.

        The fast path (`siox.fastpaths`): while `writable_directly` holds, the frame is returned
        (``str`` for a text frame, ``bytes`` for a binary one) and the driver writes it itself:
        exactly the `WebSocketSend` that `send` would queue, without the outbox. Otherwise the
        message goes through `send` and None is returned (the driver then pumps).

        Raises:
            TypeError, ValueError: as `send`.
        """
        if (
            fastpaths.ENABLED
            and self._ws is _TRANSPORT
            and self._state is _OPEN
            and not self._ws_paused
            and not self._outbox._packets  # `Outbox.__len__`, without the call
            and not self._outputs
            and (type(data) is bytes or (type(data) is str and (data.isascii() or _utf8_ok(data))))
        ):
            if type(data) is str:  # `encode_message` of text, inline: the per-message path
                return "4" + data
            return encode_message(data, self._eio, self._b64)  # what `send` would queue
        self.send(data, volatile=volatile, compress=compress)
        return None

    def abort(self, reason: CloseReason = CloseReason.FORCED_CLOSE, *, now: float) -> None:
        """End the session now, dropping what is queued (a shutdown past its deadline)."""
        self.handle_timer(now)
        self._terminate(CloseReason(reason), "aborted")

    def pause_writing(self) -> None:
        """The driver's WebSocket write buffer is full: keep messages queued here meanwhile."""
        self._ws_paused = True

    def resume_writing(self, now: float) -> None:
        """The driver's WebSocket write buffer drained: send what is queued."""
        self.handle_timer(now)
        self._ws_paused = False
        self._flush()

    # -- the machinery ----------------------------------------------------------------------------

    def _move(self, trigger: Trigger) -> None:
        target = TRANSITIONS.get((self._state, trigger))
        if target is None:
            raise RuntimeError(f"siox bug: no transition from {self._state} on {trigger}")
        self._state = target

    def _ws_frame(self, packet: EnginePacket) -> WebSocketSend:
        return WebSocketSend(encode_packet(packet, eio=self._eio, b64=self._b64), packet.compress)

    def _queue(self, packet: EnginePacket) -> None:
        """Queue a control packet (PING, PONG) unless the session is winding down."""
        if self._state in (State.OPEN, State.UPGRADING):
            self._outbox.push(packet)
            self._flush()

    def _ws_packet(self, frame: str | bytes, now: float) -> EnginePacket | None:
        """Fire due timers, then decode a message of the attached WebSocket.

        Returns None when there is nothing more to do: no WebSocket, the session is over, or
        the message was too large or invalid (the probe, or the session, is then closed).
        """
        self.handle_timer(now)
        if self._ws is None or self._state is State.CLOSED:
            return None
        if text_exceeds(frame, self.max_payload):
            self._reject_frame(
                CloseReason.TRANSPORT_ERROR, "WebSocket message too large", WS_TOO_BIG
            )
            return None
        try:
            return decode_packet(frame, eio=self._eio)
        except InvalidPacket as exc:
            self._reject_frame(CloseReason.PARSE_ERROR, exc.message, WS_PROTOCOL_ERROR)
            return None

    def _reject_frame(self, reason: CloseReason, description: str, code: int) -> None:
        if self._ws is WebSocketRole.PROBE:
            self._abort_probe(code)  # only the upgrade attempt fails
        else:
            self._terminate(reason, description, ws_code=code)

    def _begin_close(self, reason: CloseReason, now: float) -> None:
        """Enter CLOSING: no more pings, a deadline for the close, and flush."""
        self._close_reason = CloseReason(reason)
        self._move(Trigger.CLOSE_REQUESTED)
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self._close_deadline = now + self.close_timeout
        self._flush()

    def _flush_websocket(self) -> None:
        """Send the queue on the transport WebSocket (unless paused); finish a pending close."""
        if self._ws is not WebSocketRole.TRANSPORT:
            return
        if not self._ws_paused:
            self._outputs.extend(self._ws_frame(p) for p in self._outbox.take_all())
        if self._state is State.CLOSING and not self._outbox:
            self._terminate(self._close_reason)

    def _flush(self) -> None:  # pragma: no cover - both roles override it
        raise NotImplementedError

    def _abort_probe(self, code: int | None) -> None:  # pragma: no cover - roles override it
        raise NotImplementedError

    def _writable_now(self) -> bool:  # pragma: no cover - both roles override it
        raise NotImplementedError

    def _terminate(
        self, reason: CloseReason, description: str | None = None, *, ws_code: int = WS_NORMAL
    ) -> None:  # pragma: no cover - both roles override it
        raise NotImplementedError

    def _detach_websocket(self, code: int | None) -> None:
        """Forget the attached WebSocket, asking the driver to close it with ``code``."""
        if self._ws is not None and code is not None:
            self._outputs.append(WebSocketClose(code))
        self._ws = None
        self._ws_paused = False

    def _finish(self, reason: CloseReason, description: str | None) -> None:
        """Enter CLOSED: stop every timer, drop the queue, report `Closed` (exactly once)."""
        self._move(Trigger.CLOSED)
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self._upgrade_deadline = self._close_deadline = self._noop_at = None
        self._outbox.clear()
        self._events.append(Closed(reason, description))
