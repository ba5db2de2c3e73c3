"""The server side of one Engine.IO session, as a sans-I/O state machine (`EngineSession`).

Rules of this file (h11 style):

1. No I/O and no clock. Every input carries ``now`` (float seconds, any monotonic origin); the
   session answers with events (``events_received()``: `Opened`, `MessageReceived`, `Upgraded`,
   `Closed`) and outputs (``data_to_send()``: `PollingResponse`, `WebSocketSend`,
   `WebSocketClose`). Timers are data: ``next_deadline()`` says when to call ``handle_timer``;
   every input first fires the deadlines already due, so an answer never depends on whether
   the driver's timer or the request ran first (a sid expired at 500 ms is unknown at 500 ms).
2. State changes only through the table in `siox.engineio.machine`::

       OPENING --handshake--> OPEN --probe started--> UPGRADING --upgrade done--> OPEN
                                ^                         |
                                +-------probe failed------+
       OPEN / UPGRADING --close requested--> CLOSING   (CLOSING keeps a probe: upgrade done /
       any state but CLOSED --closed--> CLOSED          probe failed leave it CLOSING)

3. Request methods (``polling_get``, the POST methods, ``attach_websocket``) answer one HTTP
   request: they return or raise a `siox.errors.ProtocolError` whose ``http_status`` /
   ``eio_error`` is the answer to give. When the fault ends the session, the session is already
   CLOSED with its outputs and `Closed` queued when the exception leaves. Stream methods
   (``receive_ws_frame``, ``transport_closed``, ``handle_timer``) never raise on peer input:
   faults become outputs and events.
4. Nothing the peer sends is lost, duplicated or reordered by the session: one FIFO outbox
   feeds whichever transport is current, and an upgrade switches only once the polling GET has
   been released.

The driver's contract, per request (drain ``data_to_send()`` and ``events_received()``, or
both at once with ``drain()``, after every call, including one that raised, and re-arm the
timer from ``next_deadline()``):

* handshake (`validate_request` gave `NewSession`): ``EngineSession(new_sid(), transport=...,
  now=...)``; for polling then call ``polling_get(now)``, whose answer is the OPEN packet; for
  WebSocket the first `WebSocketSend` is the OPEN packet.
* polling GET: ``polling_get(now)``; hold the request until a `PollingResponse` appears (it
  may already be there), answer 200 with it.
* polling POST: ``begin_polling_post(content_type, now)``, ``feed_polling_post(chunk, now)``
  per chunk of the body (413 as soon as it raises `PayloadTooLarge`), then answer
  ``end_polling_post(now)`` (``"ok"``); or ``receive_polling_post(body, content_type, now)``
  when the body is already whole.
* WebSocket upgrade (`ExistingSession` with ``upgrade=True``): ``attach_websocket(now)``, then
  ``receive_ws_frame(frame, now)`` per message; asyncio's ``pause_writing``/``resume_writing``
  go to the same-named methods.
* sending: ``send(data)``, or ``send_direct(data)``, which returns the frame to write at once
  when the WebSocket is steady (nothing queued: the fast path) and otherwise queues as ``send``.
* a request or WebSocket lost mid-way: ``transport_closed(Transport.POLLING | WEBSOCKET, now)``.
* `Closed` seen: drop the session from the sid table (its sid is unknown from then on).

Reference behaviour (engine.io 6.6) kept: a second concurrent GET is fatal (the pending one gets
``1``, the new one 400); a client ``1`` over polling releases the pending GET with ``6``, the POST
gets ``ok``; a v4 client ``2`` or v3 client ``3`` is "invalid heartbeat direction"; an
UPGRADE/OPEN/NOOP packet on the transport is ignored; packets received while CLOSING are
ignored (but a ``1``); a GET that arrives after the probe gets its ``6`` after 100 ms (the
reference's check interval; the GET pending at the probe is released at once). Deliberate
differences: a ``1`` over WebSocket closes the session (the
reference ignores it; api.md); a POST body above ``max_payload`` gets 413 *and* closes the
session; a ``5`` on the probe before ``2probe`` closes the probe (the reference upgrades
anyway); a GET still pending when ``5`` arrives gets ``6`` (the reference sends ``1``, which can
only confuse a client that kept polling); the outgoing buffer is bounded (hostile-inputs R05).

(Over the 400-line soft cap: most of it is this contract, and the WebSocket message fast path
must sit inside ``receive_ws_frame``; the polling bookkeeping is already in
`siox.engineio.polling` and the shared core in `siox.engineio.machine`.)
"""

from __future__ import annotations

from .. import fastpaths
from ..errors import InvalidPacket, ProtocolError
from ..options import DEFAULT_ENGINE_OPTIONS
from .events import CloseReason, MessageReceived, Opened, Upgraded
from .handshake import EngineErrorCode, Transport, build_open_data, handshake_error
from .heartbeat import Heartbeat, HeartbeatAction, HeartbeatRole
from .machine import (
    DEFAULT_MAX_BUFFER_SIZE,
    WS_NORMAL,
    WS_PROTOCOL_ERROR,
    SessionCore,
    State,
    Trigger,
    WebSocketRole,
)
from .outputs import PollingResponse
from .packet import DEFAULT_MAX_PAYLOAD, EnginePacket, EnginePacketType
from .polling import POST_RESPONSE, PollingChannel

__all__ = ["DEFAULT_MAX_BUFFER_SIZE", "NOOP_INTERVAL", "POST_RESPONSE", "EngineSession"]

#: Seconds a GET that arrives during an upgrade (after the probe) is held before its NOOP.
NOOP_INTERVAL = 0.1
_DEFAULTS = DEFAULT_ENGINE_OPTIONS

_T = EnginePacketType
_OPEN = State.OPEN
# `MessageReceived(data)` without the frozen dataclass's __init__, for the per-message fast
# path: the slot is filled through its descriptor (40% cheaper).
_new = object.__new__
_set_message_data = vars(MessageReceived)["data"].__set__
_POLLING = Transport.POLLING
_WEBSOCKET = Transport.WEBSOCKET
_SERVER = HeartbeatRole.SERVER
_HANDSHAKE = Trigger.HANDSHAKE
_OPEN_PACKET = EnginePacketType.OPEN
_PROBE = WebSocketRole.PROBE
_TRANSPORT = WebSocketRole.TRANSPORT
#: The polling state of every session that has not polled (no GET held, no POST): shared, so a
#: WebSocket session allocates none; only read (its feed_post/end_post raise before writing).
_NO_POLLING = PollingChannel(4, False, 1)


class EngineSession(SessionCore):
    """One Engine.IO session, server role. See the module docstring for the driver's contract.

    Args:
        sid: the session id (`siox.engineio.handshake.new_sid`).
        transport: the transport of the handshake request.
        now: the time of the handshake.
        eio: the Engine.IO revision, 4 or 3.
        b64: the client asked for binary as base64 (``b64`` query parameter).
        ping_interval: heartbeat period, seconds (default 25).
        ping_timeout: heartbeat answer delay, seconds (default 20).
        upgrade_timeout: how long a probe WebSocket may take to send ``5``, seconds (default 10).
        close_timeout: how long ``close()`` waits for a poll to deliver the close, seconds
            (default 30).
        max_payload: the largest POST body or WebSocket message accepted, bytes (default 1 MB;
            the reference's ``maxHttpBufferSize``), also advertised in the handshake.
        max_buffer_size: outgoing bytes that may wait for a slow peer before the session is
            closed (default 10 MB); volatile messages are dropped instead.
        allow_upgrades: offer (and accept) an upgrade to WebSocket on a polling session.
    """

    __slots__ = ("_allow_upgrades", "_corked", "_polling", "_probed", "sid")

    def __init__(
        self,
        sid: str,
        *,
        transport: Transport,
        now: float,
        eio: int = 4,
        b64: bool = False,
        ping_interval: float = _DEFAULTS.ping_interval,
        ping_timeout: float = _DEFAULTS.ping_timeout,
        upgrade_timeout: float = _DEFAULTS.upgrade_timeout,
        close_timeout: float = _DEFAULTS.close_timeout,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        max_buffer_size: int = DEFAULT_MAX_BUFFER_SIZE,
        allow_upgrades: bool = True,
    ) -> None:
        super().__init__(
            transport, eio, b64, upgrade_timeout, close_timeout, max_payload, max_buffer_size
        )
        self.sid = sid
        self._allow_upgrades = allow_upgrades and self._transport is _POLLING
        # A WebSocket session's polling state is the shared idle channel (never mutated: a real
        # one replaces it before a GET or POST is taken; see `_open_polling`).
        self._polling = (
            PollingChannel(eio, b64, max_payload) if self._transport is _POLLING else _NO_POLLING
        )
        self._probed = False
        self._corked = False
        upgrades = ("websocket",) if self._allow_upgrades else ()
        self._heartbeat = heartbeat = Heartbeat(_SERVER, eio, ping_interval, ping_timeout)
        if self._transport is _WEBSOCKET:
            self._ws = _TRANSPORT
        data = build_open_data(
            sid,
            upgrades=upgrades,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            max_payload=max_payload,
        )
        self._outbox.push(EnginePacket(_OPEN_PACKET, data))
        self._move(_HANDSHAKE)
        heartbeat.start(now)
        self._events.append(
            Opened(sid, self._transport, upgrades, ping_interval, ping_timeout, max_payload)
        )
        self._flush()

    @property
    def can_upgrade(self) -> bool:
        """Whether a WebSocket may attach now to probe an upgrade."""
        return (
            self._allow_upgrades
            and self._state is State.OPEN
            and self._transport is Transport.POLLING
            and self._ws is None
        )

    # -- long-polling ---------------------------------------------------------------------------

    def polling_get(self, now: float) -> None:
        """A long-polling GET arrived; its answer comes as a `PollingResponse` output.

        Raises:
            HandshakeError: the session is closed (400, code 1) or no longer polling (400, 3).
            ProtocolError: another GET is pending (400); the session is closed and the pending
                GET is answered with a close packet.
        """
        self._check_polling(now)
        try:
            self._open_polling().hold_get()
        except ProtocolError as exc:
            self._refused(exc)
            raise
        if self._probed and not self._outbox:
            # Paced like the reference's 100 ms check, so a client that keeps polling while
            # the 3probe is on its way cannot spin on immediate NOOPs.
            self._noop_at = now + NOOP_INTERVAL
        self._flush()

    def cork(self) -> None:
        """Hold the pending GET until `uncork`: what is sent meanwhile leaves in one answer.

        A driver corks while it reports the messages of one POST, so that the answers its
        handlers send back at once share the GET's response instead of the first one taking
        it alone.
        """
        self._corked = True

    def uncork(self) -> None:
        """Stop holding the pending GET, and release it if something is queued."""
        self._corked = False
        self._flush()

    def begin_polling_post(self, content_type: str | None, now: float) -> None:
        """A long-polling POST started; feed its body next.

        Raises:
            HandshakeError: the session is closed (400, code 1) or no longer polling (400, 3).
            ProtocolError: another POST is in progress, or a v4 POST is binary (400); both
                close the session.
        """
        self._check_polling(now)
        try:
            self._open_polling().begin_post(content_type)
        except ProtocolError as exc:
            self._refused(exc)
            raise

    def feed_polling_post(self, chunk: bytes, now: float) -> None:
        """Some bytes of the POST body arrived.

        Raises:
            PayloadTooLarge: the body crossed ``max_payload`` (413); the session is closed.
            HandshakeError: the session closed meanwhile (400, code 1).
        """
        self._check_open(now)
        try:
            self._polling.feed_post(chunk)
        except ProtocolError as exc:
            self._refused(exc)
            raise

    def end_polling_post(self, now: float) -> PollingResponse:
        """The POST body is complete: process its packets.

        Returns:
            `POST_RESPONSE` (200 ``ok``).

        Raises:
            InvalidPacket: the body is not a valid payload (400); the session is closed with
                "parse error".
            PayloadTooLarge: the decoded payload is too large (413); the session is closed.
            HandshakeError: the session closed meanwhile (400, code 1).
        """
        self._check_open(now)
        try:
            packets = self._polling.end_post()
        except ProtocolError as exc:
            self._refused(exc)
            raise
        for packet in packets:
            if self._state is State.CLOSED:
                break
            self._on_packet(packet, now, Transport.POLLING)
        return POST_RESPONSE

    def receive_polling_post(
        self, body: bytes, content_type: str | None, now: float
    ) -> PollingResponse:
        """A whole POST: `begin_polling_post`, `feed_polling_post` and `end_polling_post`.

        Fast path (`siox.fastpaths`): a v4 text body of MESSAGE records only, on an open
        polling session with no POST in progress, no deadline due at ``now`` and no PONG
        awaited (the heartbeat would take no note of it), within ``max_payload``: its
        messages are queued as `MessageReceived`, nothing else to do. Anything else (another
        packet type, a bad or binary body, a due deadline) takes the general path.
        """
        if (
            fastpaths.ENABLED
            and self._state is _OPEN
            and self._transport is _POLLING
            and self._eio == 4
            and type(body) is bytes
            and body[:1] == b"4"
            and len(body) <= self.max_payload
            and (content_type is None or content_type.startswith("text/plain"))
            and self._upgrade_deadline is None
            and self._noop_at is None
            and not self._polling.post_in_progress
        ):
            heartbeat = self._heartbeat
            assert heartbeat is not None
            ping_at = heartbeat.ping_at
            if (ping_at is None or now < ping_at) and heartbeat.deadline is None:
                try:
                    text = body.decode()
                except UnicodeDecodeError:
                    text = ""
                if text and text.count("\x1e") == text.count("\x1e4"):
                    events = self._events
                    for record in text.split("\x1e"):
                        event = _new(MessageReceived)
                        _set_message_data(event, record[1:])
                        events.append(event)
                    return POST_RESPONSE
        self.begin_polling_post(content_type, now)
        self.feed_polling_post(body, now)
        return self.end_polling_post(now)

    def _check_open(self, now: float) -> None:
        self.handle_timer(now)
        if self._state is State.CLOSED:
            raise handshake_error(EngineErrorCode.UNKNOWN_SID)

    def _open_polling(self) -> PollingChannel:
        """This session's own polling channel (created in place of the shared idle one)."""
        polling = self._polling
        if polling is _NO_POLLING:
            polling = self._polling = PollingChannel(self._eio, self._b64, self.max_payload)
        return polling

    def _check_polling(self, now: float) -> None:
        self._check_open(now)
        if self._transport is not Transport.POLLING:
            raise handshake_error(EngineErrorCode.BAD_REQUEST)

    def _refused(self, exc: ProtocolError) -> None:
        """A `PollingChannel` refusal closes the session (the caller lets it propagate)."""
        reason = CloseReason.PARSE_ERROR
        if not isinstance(exc, InvalidPacket):
            reason = CloseReason.TRANSPORT_ERROR
        self._terminate(reason, exc.message)

    def _release_get(self, packets: list[EnginePacket]) -> None:
        self._outputs.append(self._polling.respond(packets))

    # -- WebSocket ------------------------------------------------------------------------------

    def attach_websocket(self, now: float, *, b64: bool | None = None) -> None:
        """A WebSocket for this sid was accepted: it probes an upgrade of the polling session.

        (A WebSocket-only session has its WebSocket from the start: do not call this for it.)

        Args:
            now: the time.
            b64: the WebSocket's request asked for binary as base64 (its ``b64`` query
                parameter); None keeps the handshake's choice. The reference decides per
                transport: a socket.io 2.x client in Node polls with ``b64=1`` and upgrades
                without it, and then expects binary frames.

        Raises:
            HandshakeError: the session is closed (400, code 1), or it cannot upgrade now (not
                polling, already probing, closing, upgrades off: 400, code 3). Close the
                newcomer; the session is unaffected.
        """
        self.handle_timer(now)
        if self._state is State.CLOSED:
            raise handshake_error(EngineErrorCode.UNKNOWN_SID)
        if not self.can_upgrade:
            raise handshake_error(EngineErrorCode.BAD_REQUEST)
        if b64 is not None:
            self._b64 = b64  # the polling channel keeps its own
        self._ws = _PROBE
        self._ws_paused = False
        self._probed = False
        self._upgrade_deadline = now + self.upgrade_timeout
        self._move(Trigger.PROBE_STARTED)

    def receive_ws_frame(
        self, frame: str | bytes, now: float, *, direct: bool = False
    ) -> str | bytes | None:
        """A message arrived on the attached WebSocket (text as str, binary as bytes).

        Fast path (`siox.fastpaths`): a MESSAGE (text ``4...``, or a v4 binary frame) on the
        steady transport WebSocket, when no deadline is due at ``now`` and the heartbeat would
        take no note of it, is only delivered. In that state the heartbeat's are the only
        deadlines (upgrade, NOOP and close deadlines belong to other states). Anything else,
        and text that might exceed ``max_payload`` in UTF-8, takes the general path below.

        With ``direct``, a message the fast path delivers while nothing else is pending is
        returned instead of queued as a `MessageReceived` (as `send_direct` hands a frame
        back): nothing else changed, so the driver delivers it without pumping.

        Returns:
            The message data, when ``direct`` and the fast path delivered it; otherwise None.
        """
        if fastpaths.ENABLED and self._ws is _TRANSPORT and self._state is _OPEN:
            heartbeat = self._heartbeat
            assert heartbeat is not None
            ping_at = heartbeat.ping_at
            deadline = heartbeat.deadline
            if (
                (ping_at is None or now < ping_at)
                and (deadline is None or (now < deadline and self._eio == 3))
                and len(frame) <= self.max_payload >> 2  # even at 4 bytes per character
            ):
                kind = type(frame)
                # (``frame[0]``: no slice object; an empty text is no MESSAGE)
                if (kind is str and frame and frame[0] == "4") or (
                    kind is bytes and self._eio == 4
                ):
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
            self._on_packet(packet, now, Transport.WEBSOCKET)
        elif packet.type is _T.PING and packet.data == "probe":
            self._outputs.append(self._ws_frame(EnginePacket(_T.PONG, "probe")))
            self._probed = True
            if self._polling.get_pending:
                self._release_get([EnginePacket(_T.NOOP)])  # so the client can pause its polling
        elif packet.type is _T.UPGRADE and self._probed:
            self._complete_upgrade()
        else:
            self._abort_probe(WS_PROTOCOL_ERROR)
        return None

    def transport_closed(self, transport: Transport, now: float) -> None:
        """The peer dropped a connection: a pending polling request, or the WebSocket.

        A polling request lost mid-way is fatal ("transport error"), as in the reference; the
        transport WebSocket closing ends the session ("transport close"); the probe closing
        only ends the upgrade attempt.
        """
        self.handle_timer(now)
        if self._state is State.CLOSED:
            return
        if Transport(transport) is Transport.WEBSOCKET:
            if self._ws is _PROBE:
                self._abort_probe(None)
            elif self._ws is _TRANSPORT:
                self._detach_websocket(None)
                self._terminate(CloseReason.TRANSPORT_CLOSE)
        elif self._polling.get_pending or self._polling.post_in_progress:
            self._polling.reset()
            self._terminate(CloseReason.TRANSPORT_ERROR, "polling request closed prematurely")

    def _complete_upgrade(self) -> None:
        if self._polling.get_pending:
            self._release_get([EnginePacket(_T.NOOP)])
        self._ws = _TRANSPORT
        self._transport = Transport.WEBSOCKET
        self._probed = False
        self._upgrade_deadline = self._noop_at = None
        self._move(Trigger.UPGRADE_DONE)
        self._events.append(Upgraded(Transport.WEBSOCKET))
        self._flush()

    def _abort_probe(self, code: int | None) -> None:
        self._detach_websocket(code)
        self._probed = False
        self._upgrade_deadline = self._noop_at = None
        self._move(Trigger.PROBE_FAILED)

    # -- packets, timers, closing -----------------------------------------------------------------

    def _on_packet(self, packet: EnginePacket, now: float, via: Transport) -> None:
        ptype = packet.type
        if self._state is State.CLOSING:
            if ptype is _T.CLOSE:
                self._close_by_peer(via)
            return
        assert self._heartbeat is not None
        action = self._heartbeat.on_packet(ptype, now)
        if action is HeartbeatAction.VIOLATION:
            self._terminate(CloseReason.TRANSPORT_ERROR, "invalid heartbeat direction")
        elif action is HeartbeatAction.SEND_PONG:
            # A bare PONG: engine.io 6.6 does not echo the PING's data (the v3 suite expects
            # "1:3"), although protocol.md section 4 says it echoes; the reference wins.
            self._queue(EnginePacket(_T.PONG))
        elif ptype is _T.MESSAGE:
            self._events.append(MessageReceived(packet.data))
        elif ptype is _T.CLOSE:
            self._close_by_peer(via)

    def _close_by_peer(self, via: Transport) -> None:
        if via is Transport.POLLING and self._polling.get_pending:
            self._release_get([EnginePacket(_T.NOOP)])
        self._terminate(CloseReason.TRANSPORT_CLOSE)

    def handle_timer(self, now: float) -> None:
        """Fire every deadline due at ``now``: close timeout, heartbeat, upgrade timeout, ping."""
        if self._state is State.CLOSED:
            return
        if self._close_deadline is not None and self._close_deadline <= now:
            self._terminate(self._close_reason, "close timeout")
            return
        assert self._heartbeat is not None
        action = self._heartbeat.on_timer(now)
        if action is HeartbeatAction.TIMEOUT:
            self._terminate(CloseReason.PING_TIMEOUT)
            return
        if self._upgrade_deadline is not None and self._upgrade_deadline <= now:
            self._abort_probe(WS_NORMAL)
        if self._noop_at is not None and self._noop_at <= now:
            self._noop_at = None
            if self._probed and self._polling.get_pending:
                self._release_get([EnginePacket(_T.NOOP)])
        if action is HeartbeatAction.SEND_PING:
            self._queue(EnginePacket(_T.PING))

    def close(self, reason: CloseReason = CloseReason.FORCED_CLOSE, *, now: float) -> None:
        """Close the session: flush what is queued, then the close (``1`` on the next poll).

        A polling session waits up to ``close_timeout`` for a GET to carry the close. Idempotent.
        `Closed` comes with ``reason`` once the close is on the wire.
        """
        self.handle_timer(now)
        if self._state in (State.OPEN, State.UPGRADING):
            self._begin_close(reason, now)

    def _writable_now(self) -> bool:
        if self._transport is Transport.POLLING:
            return self._polling.get_pending
        return self._ws is _TRANSPORT and not self._ws_paused

    def _flush(self) -> None:
        state = self._state
        if state is State.CLOSED:
            return
        if self._transport is Transport.POLLING:
            if not self._polling.get_pending or self._corked:
                return
            if state is State.CLOSING:
                self._release_get([*self._outbox.take_all(), EnginePacket(_T.CLOSE)])
                self._terminate(self._close_reason)
            elif self._outbox:
                self._release_get(self._outbox.take_all())
        else:
            self._flush_websocket()

    def _terminate(
        self, reason: CloseReason, description: str | None = None, *, ws_code: int = WS_NORMAL
    ) -> None:
        if self._state is State.CLOSED:
            return
        if self._polling.get_pending:
            self._release_get([EnginePacket(_T.CLOSE)])
        self._detach_websocket(ws_code)
        if self._polling is not _NO_POLLING:
            self._polling.reset()
        self._probed = False
        self._finish(reason, description)
