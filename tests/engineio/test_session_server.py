"""The server EngineSession driven directly with wire strings, as the conformance suites do.

Timings follow the suites (pingInterval 300 ms, pingTimeout 200 ms); the clock is a float.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import siox.fastpaths
from siox.engineio.events import Closed, CloseReason, MessageReceived, Opened, Upgraded
from siox.engineio.handshake import EngineErrorCode, Transport
from siox.engineio.machine import State
from siox.engineio.outputs import PollingResponse, WebSocketClose, WebSocketSend
from siox.engineio.session import NOOP_INTERVAL, POST_RESPONSE, EngineSession
from siox.errors import HandshakeError, InvalidPacket, PayloadTooLarge, ProtocolError

INTERVAL, TIMEOUT = 0.3, 0.2


def new_session(
    transport: Transport = Transport.POLLING, *, eio: int = 4, **options: Any
) -> EngineSession:
    options = {"ping_interval": INTERVAL, "ping_timeout": TIMEOUT, **options}
    session = EngineSession("SID", transport=transport, now=0.0, eio=eio, **options)
    if transport is Transport.POLLING:
        assert re.match(r"([0-9]+:)?0\{", get(session, 0.0))
    else:
        [open_frame] = frames(session)
        assert isinstance(open_frame, str)
        assert open_frame.startswith("0{")
    [opened] = session.events_received()
    assert isinstance(opened, Opened)
    return session


def responses(session: EngineSession) -> list[str | bytes]:
    out = session.data_to_send()
    assert all(isinstance(item, PollingResponse) for item in out), out
    return [item.body for item in out if isinstance(item, PollingResponse)]


def get(session: EngineSession, now: float) -> Any:
    """GET and return the body if it is answered at once, else None (the GET is held)."""
    session.polling_get(now)
    bodies = responses(session)
    assert len(bodies) <= 1
    return bodies[0] if bodies else None


def post(session: EngineSession, body: str | bytes, now: float, ct: str | None = None) -> None:
    raw = body.encode() if isinstance(body, str) else body
    assert session.receive_polling_post(raw, ct, now) is POST_RESPONSE


def frames(session: EngineSession) -> list[Any]:
    out = session.data_to_send()
    return [item.frame if isinstance(item, WebSocketSend) else item for item in out]


def messages(session: EngineSession) -> list[str | bytes]:
    return [e.data for e in session.events_received() if isinstance(e, MessageReceived)]


def closed_with(session: EngineSession) -> Closed:
    assert session.state is State.CLOSED
    closed = [e for e in session.events_received() if isinstance(e, Closed)]
    assert len(closed) == 1
    return closed[0]


def unknown_sid(call: Any, *args: Any) -> None:
    with pytest.raises(HandshakeError) as info:
        call(*args)
    assert (info.value.http_status, info.value.eio_error) == (400, EngineErrorCode.UNKNOWN_SID)


# -- handshake ----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", list(Transport))
@pytest.mark.parametrize("eio", [4, 3])
def test_handshake_open_packet(transport: Transport, eio: int) -> None:
    session = EngineSession(
        "SID", transport=transport, now=0.0, eio=eio, ping_interval=INTERVAL, ping_timeout=TIMEOUT
    )
    if transport is Transport.POLLING:
        session.polling_get(0.0)
        [reply] = session.data_to_send()
        assert isinstance(reply, PollingResponse)
        assert reply.content_type == "text/plain; charset=UTF-8"
        body = str(reply.body)
        if eio == 3:
            length, _, body = body.partition(":")
            assert int(length) == len(body)
    else:
        [reply] = session.data_to_send()
        assert isinstance(reply, WebSocketSend)
        body = str(reply.frame)
    assert body[0] == "0"
    document = json.loads(body[1:])
    assert document == {
        "sid": "SID",
        "upgrades": ["websocket"] if transport is Transport.POLLING else [],
        "pingInterval": 300,
        "pingTimeout": 200,
        "maxPayload": 1000000,
    }
    assert list(document) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]
    assert session.events_received() == [
        Opened("SID", transport, tuple(document["upgrades"]), INTERVAL, TIMEOUT, 1000000)
    ]


def test_no_upgrade_offered_when_upgrades_are_off() -> None:
    session = EngineSession("SID", transport=Transport.POLLING, now=0.0, allow_upgrades=False)
    assert json.loads(get(session, 0.0)[1:])["upgrades"] == []
    assert not session.can_upgrade
    with pytest.raises(HandshakeError):
        session.attach_websocket(0.0)


# -- messages -----------------------------------------------------------------------------------


def test_polling_text_messages_both_ways() -> None:
    session = new_session()
    post(session, "4hello", 0.01)
    assert messages(session) == ["hello"]
    post(session, "4test1\x1e4test2\x1e4test3", 0.02)
    assert messages(session) == ["test1", "test2", "test3"]
    for data in ("test1", "test2", "test3"):
        session.send(data)
    assert get(session, 0.03) == "4test1\x1e4test2\x1e4test3"


def test_polling_binary_messages_both_ways() -> None:
    session = new_session()
    post(session, "4hello\x1ebAQIDBA==", 0.01)
    assert messages(session) == ["hello", b"\x01\x02\x03\x04"]
    session.send("hello")
    session.send(bytearray(b"\x01\x02\x03\x04"))
    assert get(session, 0.02) == "4hello\x1ebAQIDBA=="


def test_held_get_is_answered_when_a_message_is_sent() -> None:
    session = new_session()
    assert get(session, 0.01) is None
    session.send("late")
    assert responses(session) == ["4late"]


def test_websocket_messages_one_packet_per_frame() -> None:
    session = new_session(Transport.WEBSOCKET)
    session.receive_ws_frame("4hello", 0.01)
    session.receive_ws_frame(b"\x01\x02\x03\x04", 0.01)
    assert messages(session) == ["hello", b"\x01\x02\x03\x04"]
    session.send("a")
    session.send(b"\x00")
    session.send("b")
    assert frames(session) == ["4a", b"\x00", "4b"]


def test_v3_payloads_and_binary_frames() -> None:
    session = new_session(eio=3)
    post(session, "6:4hello10:b4AQIDBA==", 0.01)
    assert messages(session) == ["hello", b"\x01\x02\x03\x04"]
    session.send("hello")
    session.send(b"\x01\x02\x03\x04")
    session.polling_get(0.02)
    [reply] = session.data_to_send()
    assert isinstance(reply, PollingResponse)
    assert reply.content_type == "application/octet-stream"  # XHR2 binary payload
    assert reply.body == b"\x00\x06\xff4hello\x01\x05\xff\x04\x01\x02\x03\x04"
    ws = new_session(Transport.WEBSOCKET, eio=3)
    ws.receive_ws_frame(b"\x04\x01\x02", 0.01)
    assert messages(ws) == [b"\x01\x02"]
    ws.send(b"\x01\x02")
    assert frames(ws) == [b"\x04\x01\x02"]


def test_v3_b64_session_sends_binary_as_base64_text() -> None:
    session = new_session(eio=3, b64=True)
    session.send(b"\x01\x02\x03\x04")
    assert get(session, 0.01) == "10:b4AQIDBA=="


def test_v3_binary_post_body_is_accepted() -> None:
    session = new_session(eio=3)
    body = b"\x00\x06\xff4hello\x01\x05\xff\x04\x01\x02\x03\x04"
    post(session, body, 0.01, "application/octet-stream")
    assert messages(session) == ["hello", b"\x01\x02\x03\x04"]


def test_post_body_may_arrive_in_chunks() -> None:
    session = new_session()
    session.begin_polling_post("text/plain;charset=UTF-8", 0.01)
    for chunk in (b"4h", "é".encode()[:1], "é".encode()[1:], b"llo"):
        session.feed_polling_post(chunk, 0.01)
    assert session.end_polling_post(0.01) is POST_RESPONSE
    assert messages(session) == ["héllo"]


# -- heartbeat ----------------------------------------------------------------------------------


def test_v4_polling_ping_pong() -> None:
    session = new_session()
    now = 0.0
    for _ in range(3):
        assert session.next_deadline() == pytest.approx(now + INTERVAL)
        now += INTERVAL
        assert get(session, now - 0.01) is None  # held until the ping is due
        session.handle_timer(now)
        assert responses(session) == ["2"]
        post(session, "3", now + 0.01)
        now += 0.01
    assert session.state is State.OPEN


def test_v4_polling_session_expires_when_the_client_stops_polling() -> None:
    # The suite: 300/200 ms, a sid left alone for 500 ms is unknown.
    session = new_session()
    assert session.next_deadline() == pytest.approx(0.3)
    session.handle_timer(0.3)  # the ping waits in the queue: no GET to carry it
    assert session.next_deadline() == pytest.approx(0.5)
    unknown_sid(session.polling_get, 0.5)  # the request fires the overdue timer first
    assert closed_with(session) == Closed(CloseReason.PING_TIMEOUT)
    assert session.next_deadline() is None


def test_v4_websocket_ping_timeout_closes_the_websocket() -> None:
    session = new_session(Transport.WEBSOCKET)
    session.handle_timer(0.3)
    assert frames(session) == ["2"]
    session.handle_timer(0.5)
    assert frames(session) == [WebSocketClose(1000)]
    assert closed_with(session).reason == "ping timeout"


def test_v4_pong_deadline_is_extended_once_by_other_packets() -> None:
    # engine.io 6.6: the first non-pong packet while a pong is awaited refreshes the deadline.
    session = new_session(Transport.WEBSOCKET)
    session.handle_timer(0.3)
    session.receive_ws_frame("4a", 0.45)
    assert session.next_deadline() == pytest.approx(0.65)
    session.receive_ws_frame("4b", 0.6)
    assert session.next_deadline() == pytest.approx(0.65)
    session.handle_timer(0.65)
    assert closed_with(session).reason == "ping timeout"


def test_v4_pong_rearms_the_next_ping_from_its_arrival() -> None:
    session = new_session(Transport.WEBSOCKET)
    session.handle_timer(0.3)
    session.receive_ws_frame("3", 0.35)
    assert session.next_deadline() == pytest.approx(0.65)


@pytest.mark.parametrize("frame", ["2", "2probe", "2x"])
def test_v4_client_ping_is_an_invalid_heartbeat_direction(frame: str) -> None:
    session = new_session(Transport.WEBSOCKET)
    session.receive_ws_frame(frame, 0.01)
    assert frames(session) == [WebSocketClose(1000)]
    assert closed_with(session) == Closed(
        CloseReason.TRANSPORT_ERROR, "invalid heartbeat direction"
    )


def test_ping_flood_closes_at_the_first_ping() -> None:
    # E08: no per-packet timer; the first wrong-direction ping ends the session.
    session = new_session(Transport.WEBSOCKET)
    for _ in range(10_000):
        session.receive_ws_frame("2", 0.01)
    assert closed_with(session).reason == "transport error"
    assert session.next_deadline() is None


def test_v3_client_pings_and_server_pongs() -> None:
    session = new_session(eio=3)
    now = 0.0
    for _ in range(3):
        now += 0.1
        post(session, "1:2", now)
        assert get(session, now) == "1:3"
    assert session.next_deadline() == pytest.approx(now + INTERVAL + TIMEOUT)


def test_v3_session_times_out_without_client_pings() -> None:
    session = new_session(eio=3)
    assert session.next_deadline() == pytest.approx(0.5)
    with pytest.raises(HandshakeError):
        post(session, "1:2", 0.5)
    assert closed_with(session).reason == "ping timeout"


def test_v3_client_pong_is_an_invalid_heartbeat_direction() -> None:
    session = new_session(Transport.WEBSOCKET, eio=3)
    session.receive_ws_frame("3", 0.01)
    assert closed_with(session).description == "invalid heartbeat direction"


def test_v3_websocket_ping_pong() -> None:
    session = new_session(Transport.WEBSOCKET, eio=3)
    for _ in range(3):
        session.receive_ws_frame("2", 0.1)
        assert frames(session) == ["3"]


# -- requests the peer must not make ------------------------------------------------------------


def test_duplicate_get_closes_the_session() -> None:
    session = new_session()
    assert get(session, 0.01) is None
    with pytest.raises(ProtocolError) as info:
        session.polling_get(0.02)
    assert info.value.http_status == 400
    assert responses(session) == ["1"]  # the pending GET gets the close packet
    assert closed_with(session) == Closed(CloseReason.TRANSPORT_ERROR, "overlapping polling GET")
    unknown_sid(session.polling_get, 0.03)


def test_duplicate_post_closes_the_session() -> None:
    # H07
    session = new_session()
    session.begin_polling_post(None, 0.01)
    with pytest.raises(ProtocolError):
        session.begin_polling_post(None, 0.01)
    assert closed_with(session).description == "overlapping polling POST"
    unknown_sid(session.feed_polling_post, b"4x", 0.02)  # the first POST is void too


@pytest.mark.parametrize("body", ["abc", "", "4a\x1e", "bAAA!!!", "b====", "9", "4a\x1e7"])
def test_invalid_post_payload_is_400_and_closes_the_session(body: str) -> None:
    session = new_session()
    with pytest.raises(InvalidPacket) as info:
        post(session, body, 0.01)
    assert info.value.http_status == 400
    assert closed_with(session).reason == "parse error"
    assert messages(session) == []
    unknown_sid(session.polling_get, 0.02)


def test_invalid_utf8_post_is_a_parse_error() -> None:
    session = new_session()
    with pytest.raises(InvalidPacket):
        post(session, b"4\xff", 0.01)
    assert closed_with(session).reason == "parse error"


def test_v4_binary_post_is_refused_and_closes() -> None:
    session = new_session()
    with pytest.raises(ProtocolError) as info:
        post(session, b"\x00\x01\xff4", 0.01, "application/octet-stream")
    assert info.value.http_status == 400
    assert closed_with(session).reason == "transport error"


def test_post_above_max_payload_is_413_and_closes_the_session() -> None:
    # H08, deliberately stricter: the reference keeps the session.
    session = new_session(max_payload=100)
    session.begin_polling_post(None, 0.01)
    session.feed_polling_post(b"4" + b"a" * 60, 0.01)
    with pytest.raises(PayloadTooLarge) as info:
        session.feed_polling_post(b"a" * 60, 0.01)
    assert info.value.http_status == 413
    assert closed_with(session).reason == "transport error"
    unknown_sid(session.end_polling_post, 0.02)


def test_post_exactly_max_payload_is_accepted() -> None:
    session = new_session(max_payload=10)
    post(session, "4" + "a" * 9, 0.01)
    assert messages(session) == ["a" * 9]


def test_lost_polling_request_is_a_transport_error() -> None:
    session = new_session()
    session.transport_closed(Transport.POLLING, 0.01)  # nothing in flight: nothing happens
    assert session.state is State.OPEN
    assert get(session, 0.01) is None
    session.transport_closed(Transport.POLLING, 0.02)
    assert session.data_to_send() == []  # no answer on a dead connection
    assert closed_with(session).description == "polling request closed prematurely"


def test_end_post_without_begin_is_a_driver_bug() -> None:
    session = new_session()
    with pytest.raises(RuntimeError):
        session.end_polling_post(0.01)


@pytest.mark.parametrize("frame", ["", "7", "9x", "x", "b!!", "bA"])
def test_invalid_websocket_frames_close_with_parse_error(frame: str) -> None:
    # E01
    session = new_session(Transport.WEBSOCKET)
    session.receive_ws_frame(frame, 0.01)
    assert frames(session) == [WebSocketClose(1002)]
    assert closed_with(session).reason == "parse error"


def test_websocket_frame_above_max_payload_closes_with_1009() -> None:
    session = new_session(Transport.WEBSOCKET, max_payload=10)
    session.receive_ws_frame("4" + "é" * 5, 0.01)  # 11 bytes
    assert frames(session) == [WebSocketClose(1009)]
    assert closed_with(session).reason == "transport error"


@pytest.mark.parametrize("frame", ['0{"sid":"x"}', "5", "6", "0"])
def test_open_upgrade_and_noop_on_the_transport_are_ignored(frame: str) -> None:
    # E07
    session = new_session(Transport.WEBSOCKET)
    session.receive_ws_frame(frame, 0.01)
    assert session.state is State.OPEN
    assert frames(session) == []
    assert session.events_received() == []


def test_binary_frame_during_the_handshake_is_a_message() -> None:
    # E11
    session = new_session(Transport.WEBSOCKET)
    session.receive_ws_frame(b"0{}", 0.0)
    assert messages(session) == [b"0{}"]


# -- closing ------------------------------------------------------------------------------------


def test_client_close_over_polling_releases_the_get_with_noop() -> None:
    session = new_session()
    assert get(session, 0.01) is None
    post(session, "1", 0.02)  # answered "ok"
    assert responses(session) == ["6"]
    assert closed_with(session) == Closed(CloseReason.TRANSPORT_CLOSE)
    unknown_sid(session.polling_get, 0.03)


def test_client_close_stops_processing_the_rest_of_the_payload() -> None:
    session = new_session()
    post(session, "4a\x1e1\x1e4b", 0.01)
    assert session.events_received() == [MessageReceived("a"), Closed(CloseReason.TRANSPORT_CLOSE)]


def test_client_close_over_websocket_closes_the_session() -> None:
    # E07, deliberately stricter: the reference ignores a "1" over WebSocket.
    session = new_session(Transport.WEBSOCKET)
    session.receive_ws_frame("1", 0.01)
    assert frames(session) == [WebSocketClose(1000)]
    assert closed_with(session) == Closed(CloseReason.TRANSPORT_CLOSE)


def test_websocket_lost_is_transport_close() -> None:
    session = new_session(Transport.WEBSOCKET)
    session.transport_closed(Transport.WEBSOCKET, 0.01)
    assert frames(session) == []
    assert closed_with(session).reason == "transport close"


def test_server_close_with_a_held_get_sends_queue_then_close() -> None:
    session = new_session()
    assert get(session, 0.01) is None
    session.close(now=0.02)
    assert responses(session) == ["1"]
    assert closed_with(session) == Closed(CloseReason.FORCED_CLOSE)


def test_server_close_waits_for_the_next_get() -> None:
    session = new_session()
    session.send("bye")
    session.close(CloseReason.SERVER_SHUTTING_DOWN, now=0.01)
    assert session.state is State.CLOSING
    assert session.send("dropped") is False
    assert session.next_deadline() == pytest.approx(30.01)  # no more pings
    post(session, "4ignored", 0.02)  # packets received while closing are dropped
    assert messages(session) == []
    assert get(session, 0.03) == "4bye\x1e1"
    assert closed_with(session) == Closed(CloseReason.SERVER_SHUTTING_DOWN)
    session.close(now=0.04)  # idempotent


def test_server_close_gives_up_after_the_close_timeout() -> None:
    session = new_session(close_timeout=5.0)
    session.close(now=0.01)
    session.handle_timer(5.01)
    assert closed_with(session) == Closed(CloseReason.FORCED_CLOSE, "close timeout")


def test_client_close_while_the_server_is_closing() -> None:
    session = new_session()
    session.close(now=0.01)
    post(session, "1", 0.02)
    assert closed_with(session).reason == "transport close"


def test_server_close_over_websocket_flushes_then_closes() -> None:
    session = new_session(Transport.WEBSOCKET)
    session.pause_writing()
    session.send("a")
    session.close(now=0.01)
    assert frames(session) == []
    session.resume_writing(0.02)
    assert frames(session) == ["4a", WebSocketClose(1000)]
    assert closed_with(session).reason == "forced close"


# -- the outgoing buffer ------------------------------------------------------------------------


def test_slow_polling_consumer_is_closed_past_the_buffer_limit() -> None:
    # R05
    session = new_session(max_buffer_size=1000)
    for _ in range(9):
        assert session.send("x" * 99)
    assert session.buffered_amount == 900
    assert session.send("y" * 200) is False
    assert closed_with(session).description is not None
    assert session.buffered_amount == 0


def test_volatile_messages_are_dropped_when_the_transport_is_busy() -> None:
    session = new_session(max_buffer_size=100)
    assert session.send("v", volatile=True) is False  # no GET held
    assert get(session, 0.01) is None
    assert session.send("v1", volatile=True) is True
    assert responses(session) == ["4v1"]
    ws = new_session(Transport.WEBSOCKET)
    ws.pause_writing()
    assert ws.send("v", volatile=True) is False
    assert ws.send("kept") is True
    ws.resume_writing(0.01)
    assert frames(ws) == ["4kept"]


def test_paused_websocket_overflow_closes_with_1008() -> None:
    session = new_session(Transport.WEBSOCKET, max_buffer_size=10)
    session.pause_writing()
    assert session.send(b"\x00" * 10) is False
    assert frames(session) == [WebSocketClose(1008)]
    assert closed_with(session).reason == "slow consumer"


def test_send_argument_checks() -> None:
    session = new_session()
    with pytest.raises(TypeError):
        session.send(123)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="separator"):
        session.send("a\x1eb")  # would split into two packets on the wire
    with pytest.raises(ValueError, match="surrogate"):
        session.send("\ud800")
    ws = new_session(Transport.WEBSOCKET)
    assert ws.send("a\x1eb")
    assert frames(ws) == ["4a\x1eb"]


def test_invalid_options_are_value_errors() -> None:
    bad: list[dict[str, Any]] = [
        {"eio": 5},
        {"ping_interval": 0},
        {"ping_timeout": -1},
        {"max_payload": 0},
        {"upgrade_timeout": 0},
        {"max_buffer_size": -1},
    ]
    for options in bad:
        with pytest.raises(ValueError):
            EngineSession("x", transport=Transport.POLLING, now=0.0, **options)


# -- upgrade ------------------------------------------------------------------------------------


def probe(session: EngineSession, now: float) -> None:
    session.attach_websocket(now)
    assert session.state is State.UPGRADING
    session.receive_ws_frame("2probe", now)


def test_upgrade_conformance_flow() -> None:
    session = new_session()
    session.attach_websocket(0.01)
    assert not session.can_upgrade
    session.receive_ws_frame("2probe", 0.02)
    assert frames(session) == ["3probe"]
    assert get(session, 0.03) is None  # paced, like the reference's 100 ms check
    session.handle_timer(0.03 + NOOP_INTERVAL)
    assert responses(session) == ["6"]
    session.receive_ws_frame("5", 0.14)
    assert session.events_received() == [Upgraded(Transport.WEBSOCKET)]
    assert session.transport is Transport.WEBSOCKET
    assert session.state is State.OPEN
    session.receive_ws_frame("4hello", 0.15)
    for data in messages(session):
        session.send(data)
    assert frames(session) == ["4hello"]  # nothing else first (no stray noop)
    with pytest.raises(HandshakeError) as info:
        session.polling_get(0.16)
    assert info.value.eio_error == EngineErrorCode.BAD_REQUEST
    with pytest.raises(HandshakeError):
        session.attach_websocket(0.16)
    assert session.state is State.OPEN


def test_probe_releases_the_held_get_at_once() -> None:
    session = new_session()
    assert get(session, 0.01) is None
    probe(session, 0.02)
    assert session.data_to_send() == [
        WebSocketSend("3probe"),
        PollingResponse("6", "text/plain; charset=UTF-8"),
    ]


def test_packets_queued_during_the_upgrade_go_out_on_the_websocket_in_order() -> None:
    session = new_session()
    session.send("m1")
    assert get(session, 0.01) == "4m1"
    probe(session, 0.02)
    session.data_to_send()
    session.send("m2")
    session.send(b"\x02")
    session.handle_timer(0.3)  # the ping joins the queue
    session.receive_ws_frame("5", 0.31)
    assert frames(session) == ["4m2", b"\x02", "2"]


def test_posts_keep_working_while_probing() -> None:
    session = new_session()
    probe(session, 0.01)
    post(session, "4during", 0.02)
    assert messages(session) == ["during"]


def test_upgrade_timeout_closes_only_the_probe() -> None:
    # U03
    session = new_session(ping_interval=25.0, ping_timeout=20.0)
    probe(session, 0.01)
    session.data_to_send()
    assert session.next_deadline() == pytest.approx(10.01)
    session.handle_timer(10.01)
    assert frames(session) == [WebSocketClose(1000)]
    assert session.state is State.OPEN
    assert session.transport is Transport.POLLING
    session.send("still polling")
    assert get(session, 10.02) == "4still polling"
    assert session.can_upgrade  # a new attempt may come


@pytest.mark.parametrize("frames_in", [["5"], ["4hi"], ["2probe", "4hi"], ["3probe"], ["x"]])
def test_probe_misbehaviour_closes_only_the_probe(frames_in: list[str]) -> None:
    # U05: "5" before "2probe" never upgrades; anything else on the probe ends the probe.
    session = new_session()
    session.attach_websocket(0.01)
    for frame in frames_in:
        session.receive_ws_frame(frame, 0.02)
    assert session.data_to_send()[-1] == WebSocketClose(1002)
    assert session.state is State.OPEN
    assert session.transport is Transport.POLLING
    assert messages(session) == []


def test_probe_too_large_closes_with_1009() -> None:
    session = new_session(max_payload=10)
    session.attach_websocket(0.01)
    session.receive_ws_frame("2" + "p" * 20, 0.01)
    assert session.data_to_send() == [WebSocketClose(1009)]
    assert session.state is State.OPEN


def test_upgrade_packet_twice_upgrades_once() -> None:
    session = new_session()
    probe(session, 0.01)
    session.receive_ws_frame("5", 0.02)
    session.receive_ws_frame("5", 0.03)
    assert [e for e in session.events_received() if isinstance(e, Upgraded)] == [
        Upgraded(Transport.WEBSOCKET)
    ]


def test_probe_lost_keeps_polling() -> None:
    session = new_session()
    probe(session, 0.01)
    session.transport_closed(Transport.WEBSOCKET, 0.02)
    assert session.state is State.OPEN
    assert session.can_upgrade


def test_close_during_upgrade_then_upgrade_completes_on_the_websocket() -> None:
    session = new_session()
    probe(session, 0.01)
    session.data_to_send()
    session.send("last")
    session.close(now=0.02)
    assert session.state is State.CLOSING
    session.receive_ws_frame("5", 0.03)
    assert frames(session) == ["4last", WebSocketClose(1000)]
    assert closed_with(session).reason == "forced close"


def test_close_during_upgrade_then_poll_delivers_the_close() -> None:
    session = new_session()
    probe(session, 0.01)
    session.data_to_send()
    session.close(now=0.02)
    session.polling_get(0.03)
    assert session.data_to_send() == [
        PollingResponse("1", "text/plain; charset=UTF-8"),
        WebSocketClose(1000),  # the probe goes too
    ]
    assert closed_with(session).reason == "forced close"


def test_session_error_while_probing_closes_both_transports() -> None:
    session = new_session()
    assert get(session, 0.01) is None
    session.attach_websocket(0.01)
    with pytest.raises(InvalidPacket):
        post(session, "x", 0.02)
    assert session.data_to_send() == [
        PollingResponse("1", "text/plain; charset=UTF-8"),
        WebSocketClose(1000),
    ]
    assert closed_with(session).reason == "parse error"


def test_nothing_happens_after_closed() -> None:
    session = new_session(Transport.WEBSOCKET)
    session.close(now=0.01)
    session.data_to_send()
    closed_with(session)
    session.receive_ws_frame("4late", 0.02)
    session.transport_closed(Transport.WEBSOCKET, 0.02)
    session.handle_timer(100.0)
    session.resume_writing(100.0)
    assert session.send("late") is False
    assert session.data_to_send() == []
    assert session.events_received() == []
    unknown_sid(session.attach_websocket, 100.0)


def test_get_held_after_the_probe_is_released_by_the_upgrade() -> None:
    session = new_session()
    probe(session, 0.01)
    session.data_to_send()
    assert get(session, 0.02) is None  # held: its NOOP is paced
    session.receive_ws_frame("5", 0.03)
    assert session.data_to_send() == [PollingResponse("6", "text/plain; charset=UTF-8")]
    assert session.next_deadline() == pytest.approx(0.3)  # the pacing timer is gone


def test_abort_drops_the_queue_and_ends_at_once() -> None:
    session = new_session()
    session.send("never sent")
    session.abort(CloseReason.SERVER_SHUTTING_DOWN, now=0.01)
    assert session.data_to_send() == []
    assert closed_with(session) == Closed(CloseReason.SERVER_SHUTTING_DOWN, "aborted")


def test_writable_directly_only_on_an_idle_open_websocket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(siox.fastpaths, "ENABLED", True)  # also under SIOX_NO_FAST_PATHS=1
    seen = [new_session().writable_directly]
    session = new_session(Transport.WEBSOCKET)
    seen.append(session.writable_directly)
    session.pause_writing()
    seen.append(session.writable_directly)
    session.send("queued")
    session.resume_writing(0.01)
    seen.append(session.writable_directly)  # "4queued" is produced, not yet collected
    assert frames(session) == ["4queued"]
    seen.append(session.writable_directly)
    assert seen == [False, True, False, False, True]


@pytest.mark.parametrize(
    "body", [b"99999:4a", b"3:4a", b"-1:4", b":4", b"1a:4", b"2:4\xed\xa0\x80", b"abc"]
)
def test_invalid_v3_payloads_are_400_and_close(body: bytes) -> None:
    # E04 (the v3 codec's verdicts, seen from the session)
    session = new_session(eio=3)
    with pytest.raises(InvalidPacket):
        session.receive_polling_post(body, "text/plain;charset=UTF-8", 0.01)
    assert closed_with(session).reason == "parse error"


def test_abandoned_handshakes_are_all_reaped_on_their_own_timers() -> None:
    # R01, scaled down: sessions that never poll again expire after interval + timeout.
    sessions = [new_session() for _ in range(2000)]
    assert all(s.next_deadline() == pytest.approx(INTERVAL) for s in sessions)
    for session in sessions:
        session.handle_timer(INTERVAL)
    assert all(s.next_deadline() == pytest.approx(INTERVAL + TIMEOUT) for s in sessions)
    for session in sessions:
        session.handle_timer(INTERVAL + TIMEOUT)
        assert closed_with(session).reason == "ping timeout"
        assert session.next_deadline() is None
        assert session.buffered_amount == 0


def test_drain_gives_the_outputs_and_events_at_once_and_none_when_idle() -> None:
    session = EngineSession("SID", transport=Transport.WEBSOCKET, now=0.0)
    drained = session.drain()
    assert drained is not None
    outputs, events = drained
    assert [type(o) for o in outputs] == [WebSocketSend]
    assert [type(e) for e in events] == [Opened]
    assert session.drain() is None
    assert session.data_to_send() == [] and session.events_received() == []
