"""The client side of one Engine.IO session, as a sans-I/O state machine (`ClientEngineSession`).

Same rules as `siox.engineio.session` (no I/O, ``now`` passed in, timers as data, states moved
only along `siox.engineio.machine.TRANSITIONS`), same events, and outputs for the client's
side of the wire: `PollRequest`, `PostRequest`, `OpenWebSocket`, `WebSocketSend`,
`WebSocketClose`. No method raises on server input: whatever a hostile server sends ends, at
worst, in `Closed` with a description (``RuntimeError`` only flags driver bugs).

The driver's contract (drain ``data_to_send()`` and ``events_received()`` after every call):

* create the session (``now`` starts the ``open_timeout``); its first output is the handshake
  request (`PollRequest`, or `OpenWebSocket` for a WebSocket-only session).
* `PollRequest`: GET with its query; on 200 call ``receive_polling_response(body,
  content_type, now)``; on any failure ``transport_closed(Transport.POLLING, now)``. There is
  at most one GET and one POST in flight; the session asks for the next GET itself.
* `PostRequest`: POST the body; on 200 call ``polling_post_done(now)``, else
  ``transport_closed``. A POST asked for after `Closed` (the goodbye ``1``) needs no answer.
* `OpenWebSocket`: connect; once open ``attach_websocket(now)``, then ``receive_ws_frame`` per
  message; if it fails or closes, ``transport_closed(Transport.WEBSOCKET, now)``.

What the session does, after engine.io-client 6.6 (v4) and 3.5 (v3): reads the OPEN packet
strictly (`siox.engineio.handshake.parse_open_data`); answers v4 PINGs; sends v3 PINGs on its
own timer; declares the server dead after ping_interval + ping_timeout without a PING (v4) or
without any packet (v3); batches POSTs within the server's ``maxPayload``; upgrades to
WebSocket when offered: ``2probe`` on the new WebSocket, ``3probe`` back, then it stops
polling, waits for the GET and POST in flight, sends ``5`` and moves its queue to the
WebSocket. A probe that fails or takes longer than ``upgrade_timeout`` is closed and polling
resumes. ``close()`` flushes the queue, then POSTs ``1`` (polling) or closes the WebSocket.

(Over the 400-line soft cap: the client role's polling, upgrade and heartbeat rules, documented
with the state machine they drive.)
"""

from __future__ import annotations

from .. import fastpaths
from ..errors import InvalidPacket, PayloadTooLarge
from ..options import DEFAULT_CLIENT_OPTIONS, DEFAULT_ENGINE_OPTIONS
from .events import CloseReason, MessageReceived, Opened, Upgraded
from .handshake import HandshakeInfo, Transport, parse_open_data
from .heartbeat import Heartbeat, HeartbeatAction, HeartbeatRole
from .machine import (
    DEFAULT_MAX_BUFFER_SIZE,
    WS_NORMAL,
    WS_PROTOCOL_ERROR,
    SessionCore,
    State,
    Trigger,
    WebSocketRole,
    is_binary_content,
)
from .outputs import (
    BINARY_CONTENT_TYPE,
    OpenWebSocket,
    PollRequest,
    PostRequest,
    Query,
    WebSocketClose,
)
from .packet import EnginePacket, EnginePacketType
from .payload import decode_payload, encode_payload

__all__ = ["DEFAULT_CLIENT_MAX_PAYLOAD", "POST_CONTENT_TYPE", "ClientEngineSession"]

#: Default limit for one polling response or WebSocket message from the server, bytes.
DEFAULT_CLIENT_MAX_PAYLOAD = DEFAULT_CLIENT_OPTIONS.max_payload
#: Content-Type of a text POST, as engine.io-client sends it.
POST_CONTENT_TYPE = "text/plain;charset=UTF-8"

_T = EnginePacketType
_OPEN = State.OPEN
_PROBE = WebSocketRole.PROBE
_TRANSPORT = WebSocketRole.TRANSPORT
# `MessageReceived(data)` without the frozen dataclass's __init__ (as `siox.engineio.session`).
_new = object.__new__
_set_message_data = vars(MessageReceived)["data"].__set__


class ClientEngineSession(SessionCore):
    """One Engine.IO session, client role. See the module docstring for the driver's contract.

    Args:
        now: the time the handshake request goes out.
        transport: the transport to open the session with.
        eio: the Engine.IO revision, 4 or 3.
        b64: ask the server for binary as base64 text (``b64=1``).
        upgrade: upgrade to WebSocket when the server offers it.
        open_timeout: how long the handshake may take, seconds (default 20, socket.io-client's
            ``timeout``).
        upgrade_timeout: how long the probe may take until ``5`` is sent, seconds (default 10).
        close_timeout: how long ``close()`` waits for a POST in flight, seconds (default 30).
        max_payload: the largest polling response or WebSocket message accepted from the
            server, bytes (default 100 MB).
        max_buffer_size: outgoing bytes that may wait before the session is closed (default
            10 MB); volatile messages are dropped instead.
    """

    _SENDABLE = frozenset({State.OPENING, State.OPEN, State.UPGRADING})

    def __init__(
        self,
        *,
        now: float,
        transport: Transport = Transport.POLLING,
        eio: int = 4,
        b64: bool = False,
        upgrade: bool = True,
        open_timeout: float = DEFAULT_CLIENT_OPTIONS.timeout,
        upgrade_timeout: float = DEFAULT_ENGINE_OPTIONS.upgrade_timeout,
        close_timeout: float = DEFAULT_ENGINE_OPTIONS.close_timeout,
        max_payload: int = DEFAULT_CLIENT_MAX_PAYLOAD,
        max_buffer_size: int = DEFAULT_MAX_BUFFER_SIZE,
    ) -> None:
        super().__init__(
            transport, eio, b64, upgrade_timeout, close_timeout, max_payload, max_buffer_size
        )
        self._upgrade = upgrade
        #: The session id, once the handshake is done.
        self.sid: str | None = None
        #: The server's OPEN packet, once received.
        self.handshake: HandshakeInfo | None = None
        self._get_in_flight = False
        self._post_in_flight = False
        self._probe_requested = False  # OpenWebSocket asked for, not attached yet
        self._pausing = False  # 3probe received: waiting for the requests in flight
        if not open_timeout > 0:
            raise ValueError(f"open_timeout must be > 0, not {open_timeout!r}")
        self._close_deadline = now + open_timeout  # cleared by the OPEN packet
        if self._transport is Transport.POLLING:
            self._poll()
        else:
            self._outputs.append(OpenWebSocket(self.query(Transport.WEBSOCKET)))

    def query(self, transport: Transport) -> Query:
        """The Engine.IO query parameters of a request on ``transport``."""
        items = [("EIO", str(self._eio)), ("transport", Transport(transport).value)]
        if self.sid is not None:
            items.append(("sid", self.sid))
        if self._b64:
            items.append(("b64", "1"))
        return tuple(items)

    # -- long-polling ---------------------------------------------------------------------------

    def receive_polling_response(
        self, body: str | bytes, content_type: str | None, now: float
    ) -> None:
        """The server answered the GET in flight with 200 and this body."""
        self.handle_timer(now)
        if self._state is State.CLOSED:
            return
        if not self._get_in_flight:
            raise RuntimeError("no polling GET is in flight")
        self._get_in_flight = False
        binary = is_binary_content(content_type)
        try:
            if binary and self._eio == 4:
                raise InvalidPacket("a v4 polling response cannot be application/octet-stream")
            packets = decode_payload(
                body, eio=self._eio, binary=binary, max_payload=self.max_payload
            )
        except PayloadTooLarge as exc:
            self._terminate(CloseReason.TRANSPORT_ERROR, exc.message, goodbye=True)
            return
        except InvalidPacket as exc:
            self._terminate(CloseReason.PARSE_ERROR, exc.message, goodbye=True)
            return
        for packet in packets:
            if self.closed:  # a CLOSE packet, or a bad handshake
                return
            self._on_packet(packet, now)
        if self._state is State.OPENING:
            self._terminate(CloseReason.PARSE_ERROR, "the handshake response has no OPEN packet")
        elif self._pausing:
            self._finish_upgrade()
        elif self._state in (State.OPEN, State.UPGRADING) and self._transport is Transport.POLLING:
            self._poll()

    def polling_post_done(self, now: float) -> None:
        """The server answered the POST in flight with 200."""
        self.handle_timer(now)
        if self._state is State.CLOSED:
            return
        if not self._post_in_flight:
            raise RuntimeError("no polling POST is in flight")
        self._post_in_flight = False
        if self._pausing:
            self._finish_upgrade()
        self._flush()

    def _poll(self) -> None:
        self._get_in_flight = True
        self._outputs.append(PollRequest(self.query(Transport.POLLING)))

    def _post(self, packets: list[EnginePacket]) -> None:
        body = encode_payload(packets, eio=self._eio, b64=self._b64)
        content_type = POST_CONTENT_TYPE if isinstance(body, str) else BINARY_CONTENT_TYPE
        self._outputs.append(PostRequest(self.query(Transport.POLLING), body, content_type))
        self._post_in_flight = True

    # -- WebSocket ------------------------------------------------------------------------------

    def attach_websocket(self, now: float) -> None:
        """The WebSocket asked for by `OpenWebSocket` is open.

        If the session no longer wants it (closed, or the probe was given up), the session
        asks for it to be closed with a `WebSocketClose`.
        """
        self.handle_timer(now)
        if self._state is State.OPENING and self._transport is Transport.WEBSOCKET:
            if self._ws is None:
                self._ws = _TRANSPORT
                return
        elif self._probe_requested and self._state is State.OPEN:
            self._probe_requested = False
            self._ws = _PROBE
            self._ws_paused = False
            self._upgrade_deadline = now + self.upgrade_timeout
            self._move(Trigger.PROBE_STARTED)
            self._outputs.append(self._ws_frame(EnginePacket(_T.PING, "probe")))
            return
        self._outputs.append(WebSocketClose(WS_NORMAL))  # not wanted (any more)

    def receive_ws_frame(
        self, frame: str | bytes, now: float, *, direct: bool = False
    ) -> str | bytes | None:
        """A message arrived on the attached WebSocket (text as str, binary as bytes).

        Fast path (`siox.fastpaths`): a v4 MESSAGE (text ``4...`` or a binary frame) on the
        steady transport WebSocket, when no deadline is due at ``now``, is only delivered: a
        v4 client's heartbeat takes no note of messages, and in that state its deadline is the
        only one armed (the others are checked too). Anything else, and text that might
        exceed ``max_payload`` in UTF-8, takes the general path below.

        With ``direct``, a message the fast path delivers while nothing else is pending is
        returned instead of queued as a `MessageReceived` (the server session's rule), for
        the driver to deliver without pumping.

        Returns:
            The message data, when ``direct`` and the fast path delivered it; otherwise None.
        """
        if fastpaths.ENABLED and self._ws is _TRANSPORT and self._state is _OPEN:
            heartbeat = self._heartbeat
            if (
                self._eio == 4
                and heartbeat is not None
                and heartbeat.ping_at is None
                and (deadline := heartbeat.deadline) is not None
                and now < deadline
                and self._close_deadline is None
                and self._upgrade_deadline is None
                and len(frame) <= self.max_payload >> 2  # even at 4 bytes per character
            ):
                kind = type(frame)
                if (kind is str and frame[:1] == "4") or kind is bytes:
                    data = frame[1:] if kind is str else frame
                    if direct and not self._events and not self._outputs:
                        return data
                    event = _new(MessageReceived)
                    _set_message_data(event, data)
                    self._events.append(event)
                    return None
        packet = self._ws_packet(frame, now)
        if packet is None:
            return None
        if self._ws is _TRANSPORT:
            self._on_packet(packet, now)
        elif packet.type is _T.PONG and packet.data == "probe" and not self._pausing:
            # engine.io-client: stop polling, wait for the requests in flight, then send "5".
            self._pausing = True
            self._finish_upgrade()
        else:
            self._abort_probe(WS_PROTOCOL_ERROR)
        return None

    def transport_closed(self, transport: Transport, now: float) -> None:
        """A request failed or a WebSocket closed (or could not be opened)."""
        self.handle_timer(now)
        if self._state is State.CLOSED:
            return
        if Transport(transport) is Transport.WEBSOCKET:
            if self._ws is _PROBE:
                self._abort_probe(None)
            elif self._probe_requested:
                self._probe_requested = False
            elif self._ws is _TRANSPORT:
                self._detach_websocket(None)
                self._terminate(CloseReason.TRANSPORT_CLOSE)
            elif self._transport is Transport.WEBSOCKET:  # could not connect
                self._terminate(CloseReason.TRANSPORT_ERROR, "WebSocket connection failed")
        elif self._get_in_flight or self._post_in_flight:
            self._get_in_flight = self._post_in_flight = False
            self._terminate(CloseReason.TRANSPORT_ERROR, "polling request failed")

    def _finish_upgrade(self) -> None:
        if self._get_in_flight or self._post_in_flight:
            return
        self._pausing = False
        self._outputs.append(self._ws_frame(EnginePacket(_T.UPGRADE)))
        self._ws = _TRANSPORT
        self._transport = Transport.WEBSOCKET
        self._upgrade_deadline = None
        self._move(Trigger.UPGRADE_DONE)
        self._events.append(Upgraded(Transport.WEBSOCKET))
        self._flush()

    def _abort_probe(self, code: int | None) -> None:
        self._detach_websocket(code)
        self._upgrade_deadline = None
        self._move(Trigger.PROBE_FAILED)
        resume = self._pausing
        self._pausing = False
        if resume and not self._get_in_flight:
            self._poll()
        self._flush()

    # -- packets, timers, closing -----------------------------------------------------------------

    def _on_packet(self, packet: EnginePacket, now: float) -> None:
        ptype = packet.type
        if self._state is State.OPENING:
            if ptype is not _T.OPEN:
                self._terminate(CloseReason.PARSE_ERROR, f"expected the OPEN packet, got {ptype}")
                return
            try:
                info = parse_open_data(packet.data)
            except InvalidPacket as exc:
                self._terminate(CloseReason.PARSE_ERROR, exc.message)
                return
            self._open(info, now)
            return
        if self._heartbeat is None:  # pragma: no cover - set by _open
            return
        action = self._heartbeat.on_packet(ptype, now)
        if action is HeartbeatAction.SEND_PONG:
            self._queue(EnginePacket(_T.PONG))
        if ptype is _T.MESSAGE:
            self._events.append(MessageReceived(packet.data))
        elif ptype is _T.CLOSE:
            self._terminate(CloseReason.TRANSPORT_CLOSE)

    def _open(self, info: HandshakeInfo, now: float) -> None:
        self._close_deadline = None
        self.handshake = info
        self.sid = info.sid
        self._heartbeat = Heartbeat(
            HeartbeatRole.CLIENT, self._eio, info.ping_interval, info.ping_timeout
        )
        self._heartbeat.start(now)
        self._move(Trigger.HANDSHAKE)
        self._events.append(
            Opened(
                info.sid,
                self._transport,
                info.upgrades,
                info.ping_interval,
                info.ping_timeout,
                info.max_payload,
            )
        )
        self._flush()
        if (
            self._upgrade
            and self._transport is Transport.POLLING
            and Transport.WEBSOCKET.value in info.upgrades
        ):
            self._probe_requested = True
            self._outputs.append(OpenWebSocket(self.query(Transport.WEBSOCKET)))

    def handle_timer(self, now: float) -> None:
        """Fire every deadline due at ``now``: close timeout, heartbeat, upgrade timeout, ping."""
        if self._state is State.CLOSED:
            return
        if self._close_deadline is not None and self._close_deadline <= now:
            if self._state is State.OPENING:
                self._terminate(CloseReason.TRANSPORT_ERROR, "handshake timeout")
            else:
                self._terminate(self._close_reason, "close timeout")
            return
        action = HeartbeatAction.NONE
        if self._heartbeat is not None:
            action = self._heartbeat.on_timer(now)
        if action is HeartbeatAction.TIMEOUT:
            self._terminate(CloseReason.PING_TIMEOUT, goodbye=True)
            return
        if self._upgrade_deadline is not None and self._upgrade_deadline <= now:
            self._abort_probe(WS_NORMAL)
        if action is HeartbeatAction.SEND_PING:
            self._queue(EnginePacket(_T.PING))

    def close(self, reason: CloseReason = CloseReason.FORCED_CLOSE, *, now: float) -> None:
        """Close the session: flush the queue, then POST ``1`` or close the WebSocket.

        During the handshake the session closes at once. Idempotent.
        """
        self.handle_timer(now)
        state = self._state
        if state is State.OPENING:
            self._terminate(CloseReason(reason))
        if state not in (State.OPEN, State.UPGRADING):
            return
        self._probe_requested = False
        if self._ws is _PROBE:
            self._abort_probe(WS_NORMAL)
        self._begin_close(reason, now)

    def _writable_now(self) -> bool:
        if self._transport is Transport.POLLING:
            return (
                self._state in (State.OPEN, State.UPGRADING)
                and not self._post_in_flight
                and not self._pausing
            )
        return self._ws is _TRANSPORT and not self._ws_paused

    def _flush(self) -> None:
        state = self._state
        if state is State.CLOSED or state is State.OPENING:
            return
        if self._transport is Transport.POLLING:
            if self._pausing or self._post_in_flight:
                return
            if self._outbox or state is State.CLOSING:
                limit = None if self.handshake is None else self.handshake.max_payload
                batch = self._outbox.take_batch(limit, eio=self._eio, b64=self._b64)
                if state is State.CLOSING and not self._outbox:
                    self._post([*batch, EnginePacket(_T.CLOSE)])
                    self._terminate(self._close_reason)
                else:
                    self._post(batch)
        else:
            self._flush_websocket()

    def _terminate(
        self,
        reason: CloseReason,
        description: str | None = None,
        *,
        ws_code: int = WS_NORMAL,
        goodbye: bool = False,
    ) -> None:
        if self._state is State.CLOSED:
            return
        if goodbye and self._transport is Transport.POLLING and self.sid is not None:
            # engine.io-client closes its polling transport by POSTing "1"; no answer needed.
            self._post([EnginePacket(_T.CLOSE)])
        self._detach_websocket(ws_code)
        self._get_in_flight = self._post_in_flight = False
        self._probe_requested = self._pausing = False
        self._finish(reason, description)
