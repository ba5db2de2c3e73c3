"""The ClientEngineSession driven directly with a server's wire strings (honest and hostile)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from siox.engineio.client_session import POST_CONTENT_TYPE, ClientEngineSession
from siox.engineio.events import Closed, CloseReason, MessageReceived, Opened, Upgraded
from siox.engineio.handshake import Transport
from siox.engineio.machine import State
from siox.engineio.outputs import (
    OpenWebSocket,
    PollRequest,
    PostRequest,
    WebSocketClose,
    WebSocketSend,
)

TEXT = "text/plain; charset=UTF-8"


def open_data(**changes: Any) -> str:
    document = {
        "sid": "SID",
        "upgrades": ["websocket"],
        "pingInterval": 300,
        "pingTimeout": 200,
        "maxPayload": 1000000,
        **changes,
    }
    return "0" + json.dumps({k: v for k, v in document.items() if v is not None})


def polling_client(eio: int = 4, upgrade: bool = False, **handshake: Any) -> ClientEngineSession:
    client = ClientEngineSession(now=0.0, eio=eio, upgrade=upgrade)
    assert client.data_to_send() == [PollRequest((("EIO", str(eio)), ("transport", "polling")))]
    body = open_data(**handshake)
    client.receive_polling_response(f"{len(body)}:{body}" if eio == 3 else body, TEXT, 0.0)
    [opened] = client.events_received()
    assert isinstance(opened, Opened)
    assert client.sid == "SID"
    return client


def outputs(client: ClientEngineSession) -> list[Any]:
    return client.data_to_send()


def closed_with(client: ClientEngineSession) -> Closed:
    assert client.state is State.CLOSED
    closed = [e for e in client.events_received() if isinstance(e, Closed)]
    assert len(closed) == 1
    return closed[0]


POLL = PollRequest((("EIO", "4"), ("transport", "polling"), ("sid", "SID")))


def post_of(body: str, eio: int = 4) -> PostRequest:
    query = (("EIO", str(eio)), ("transport", "polling"), ("sid", "SID"))
    return PostRequest(query, body, POST_CONTENT_TYPE)


def test_polling_handshake_then_poll_loop() -> None:
    client = polling_client()
    assert client.handshake is not None
    assert client.handshake.ping_interval == 0.3
    assert outputs(client) == [POLL]
    client.receive_polling_response("4hello\x1ebAQIDBA==", TEXT, 0.01)
    assert client.events_received() == [
        MessageReceived("hello"),
        MessageReceived(b"\x01\x02\x03\x04"),
    ]
    assert outputs(client) == [POLL]


def test_packets_after_the_open_packet_in_the_same_payload_are_processed() -> None:
    client = ClientEngineSession(now=0.0, eio=3, upgrade=False)
    client.data_to_send()
    body = open_data()
    client.receive_polling_response(f"{len(body)}:{body}2:40", TEXT, 0.0)
    events = client.events_received()
    assert isinstance(events[0], Opened)
    assert events[1:] == [MessageReceived("0")]


def test_websocket_only_handshake() -> None:
    client = ClientEngineSession(now=0.0, transport=Transport.WEBSOCKET)
    assert outputs(client) == [OpenWebSocket((("EIO", "4"), ("transport", "websocket")))]
    client.attach_websocket(0.0)
    client.receive_ws_frame(open_data(upgrades=[]), 0.0)
    assert client.state is State.OPEN
    client.send("hi")
    client.send(b"\x01")
    assert outputs(client) == [WebSocketSend("4hi"), WebSocketSend(b"\x01")]


def test_sends_before_the_handshake_are_flushed_after_it() -> None:
    client = ClientEngineSession(now=0.0, upgrade=False)
    client.data_to_send()
    assert client.send("early")
    assert client.send("early2", volatile=True) is False
    client.receive_polling_response(open_data(), TEXT, 0.0)
    assert outputs(client) == [post_of("4early"), POLL]


def test_posts_are_one_at_a_time_and_batched_within_max_payload() -> None:
    client = polling_client(maxPayload=20)
    outputs(client)
    client.send("a" * 8)
    assert outputs(client) == [post_of("4" + "a" * 8)]
    for data in ("b" * 8, "c" * 8, "d" * 30, "e"):
        client.send(data)
    assert outputs(client) == []  # a POST is in flight
    client.polling_post_done(0.01)
    assert outputs(client) == [post_of("4bbbbbbbb\x1e4cccccccc")]  # 19 bytes
    client.polling_post_done(0.02)
    assert outputs(client) == [post_of("4" + "d" * 30)]  # alone, even if too big
    client.polling_post_done(0.03)
    assert outputs(client) == [post_of("4e")]


def test_v4_client_answers_pings_and_detects_a_dead_server() -> None:
    client = polling_client()
    outputs(client)
    assert client.next_deadline() == pytest.approx(0.5)
    client.receive_polling_response("2", TEXT, 0.3)
    assert outputs(client) == [post_of("3"), POLL]
    assert client.next_deadline() == pytest.approx(0.8)
    client.receive_polling_response("4not a ping", TEXT, 0.4)
    assert client.next_deadline() == pytest.approx(0.8)  # only pings prove the server alive
    client.polling_post_done(0.4)
    client.handle_timer(0.8)
    assert closed_with(client) == Closed(CloseReason.PING_TIMEOUT)
    assert outputs(client)[-1] == post_of("1")  # tells the server, as engine.io-client does


def test_v3_client_pings_on_its_own_timer() -> None:
    client = polling_client(eio=3)
    outputs(client)
    client.handle_timer(0.3)
    assert outputs(client) == [post_of("1:2", eio=3)]
    assert client.next_deadline() == pytest.approx(0.5)
    client.polling_post_done(0.31)
    client.receive_polling_response("1:3", TEXT, 0.35)
    assert client.next_deadline() == pytest.approx(0.65)
    client.handle_timer(0.65)
    assert outputs(client)[-1] == post_of("1:2", eio=3)
    client.handle_timer(0.86)
    assert closed_with(client).reason == "ping timeout"


def test_v3_client_does_not_answer_server_pings() -> None:
    client = polling_client(eio=3)
    outputs(client)
    client.receive_polling_response("1:2", TEXT, 0.1)
    assert outputs(client) == [
        PollRequest((("EIO", "3"), ("transport", "polling"), ("sid", "SID")))
    ]


def test_server_close_packet_ends_the_session() -> None:
    client = polling_client()
    outputs(client)
    client.receive_polling_response("4a\x1e1\x1e4b", TEXT, 0.1)
    assert client.events_received() == [MessageReceived("a"), Closed(CloseReason.TRANSPORT_CLOSE)]
    assert outputs(client) == []


def test_client_close_flushes_then_posts_the_close() -> None:
    client = polling_client()
    outputs(client)
    client.send("a")
    client.send("b")
    client.close(now=0.01)
    assert client.state is State.CLOSING
    assert client.send("dropped") is False
    client.polling_post_done(0.02)
    assert outputs(client) == [post_of("4a"), post_of("4b\x1e1")]
    assert closed_with(client) == Closed(CloseReason.FORCED_CLOSE)
    client.receive_polling_response("4late", TEXT, 0.03)  # the GET still in flight: ignored
    assert client.events_received() == []


def test_client_close_while_opening_is_immediate() -> None:
    client = ClientEngineSession(now=0.0, transport=Transport.WEBSOCKET)
    client.data_to_send()
    client.attach_websocket(0.0)
    client.close(now=0.0)
    assert outputs(client) == [WebSocketClose(1000)]
    assert closed_with(client).reason == "forced close"


def test_client_close_over_websocket() -> None:
    client = ClientEngineSession(now=0.0, transport=Transport.WEBSOCKET)
    client.data_to_send()
    client.attach_websocket(0.0)
    client.receive_ws_frame(open_data(upgrades=[]), 0.0)
    client.pause_writing()
    client.send("x")
    client.close(now=0.01)
    assert outputs(client) == []
    client.resume_writing(0.02)
    assert outputs(client) == [WebSocketSend("4x"), WebSocketClose(1000)]
    assert closed_with(client).reason == "forced close"


def test_failed_request_is_a_transport_error() -> None:
    client = polling_client()
    outputs(client)
    client.transport_closed(Transport.POLLING, 0.1)
    assert closed_with(client) == Closed(CloseReason.TRANSPORT_ERROR, "polling request failed")


def test_driver_bugs_raise_runtime_error() -> None:
    client = polling_client()
    with pytest.raises(RuntimeError):
        client.polling_post_done(0.1)
    client.receive_polling_response("6", TEXT, 0.1)
    client.receive_polling_response("6", TEXT, 0.1)  # fine: each answer asks for a new GET
    ws = ClientEngineSession(now=0.0, transport=Transport.WEBSOCKET)
    with pytest.raises(RuntimeError):
        ws.receive_polling_response("6", TEXT, 0.1)


# -- upgrade ------------------------------------------------------------------------------------


def upgrading_client() -> ClientEngineSession:
    client = polling_client(upgrade=True)
    assert outputs(client) == [
        OpenWebSocket((("EIO", "4"), ("transport", "websocket"), ("sid", "SID"))),
        POLL,
    ]
    client.attach_websocket(0.01)
    assert client.state is State.UPGRADING
    assert outputs(client) == [WebSocketSend("2probe")]
    return client


def test_upgrade_waits_for_the_requests_in_flight() -> None:
    client = upgrading_client()
    client.send("m1")
    assert outputs(client) == [post_of("4m1")]  # POSTs go on while probing
    client.receive_ws_frame("3probe", 0.02)
    client.send("m2")  # queued: polling is pausing
    assert outputs(client) == []
    client.polling_post_done(0.03)
    assert outputs(client) == []  # the GET is still out
    client.receive_polling_response("6", TEXT, 0.04)
    assert outputs(client) == [WebSocketSend("5"), WebSocketSend("4m2")]
    assert client.events_received() == [Upgraded(Transport.WEBSOCKET)]
    assert client.transport is Transport.WEBSOCKET
    client.send("m3")
    assert outputs(client) == [WebSocketSend("4m3")]


def test_failed_probe_resumes_polling() -> None:
    client = upgrading_client()
    client.receive_ws_frame("3probe", 0.02)
    client.receive_polling_response("6", TEXT, 0.03)
    assert outputs(client)[0] == WebSocketSend("5")

    client = upgrading_client()
    client.receive_ws_frame("3probe", 0.02)
    client.transport_closed(Transport.WEBSOCKET, 0.03)
    assert client.state is State.OPEN
    assert outputs(client) == []  # the GET in flight continues the loop
    client.receive_polling_response("6", TEXT, 0.04)
    assert outputs(client) == [POLL]


@pytest.mark.parametrize("frame", ["3", "4probe", "3probe!", "x", b"\x00"])
def test_wrong_probe_answer_closes_the_probe(frame: str | bytes) -> None:
    client = upgrading_client()
    client.receive_ws_frame(frame, 0.02)
    assert outputs(client) == [WebSocketClose(1002)]
    assert client.state is State.OPEN
    assert client.transport is Transport.POLLING


def test_probe_timeout_closes_the_probe() -> None:
    client = polling_client(upgrade=True, pingInterval=25000, pingTimeout=20000)
    outputs(client)
    client.attach_websocket(0.01)
    outputs(client)
    client.handle_timer(10.01)
    assert outputs(client) == [WebSocketClose(1000)]
    assert client.state is State.OPEN


def test_websocket_that_is_no_longer_wanted_is_closed() -> None:
    client = polling_client(upgrade=True)
    outputs(client)
    client.close(now=0.01)
    client.attach_websocket(0.02)
    assert outputs(client)[-1] == WebSocketClose(1000)


def test_close_during_probe_closes_the_probe_first() -> None:
    client = upgrading_client()
    client.close(now=0.02)
    assert outputs(client) == [WebSocketClose(1000), post_of("1")]
    assert closed_with(client).reason == "forced close"


# -- hostile servers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "",
        "4hello",
        "0",
        "0not json",
        "0[]",
        "0" + "[" * 100_000,
        open_data(sid=None),
        open_data(sid="a b"),
        open_data(pingInterval="300"),
        open_data(pingInterval=1e308),
        open_data(pingTimeout=-5),
        open_data(upgrades={"websocket": 1}),
        open_data(maxPayload=0),
        "6",
        "\x1e",
        "bAAA!!!",
    ],
)
def test_hostile_handshake_ends_in_a_clean_parse_error(body: str) -> None:
    client = ClientEngineSession(now=0.0)
    client.data_to_send()
    client.receive_polling_response(body, TEXT, 0.0)
    closed = closed_with(client)
    assert closed.reason == "parse error"
    assert closed.description
    assert client.sid is None


def test_hostile_websocket_handshake_ends_in_a_clean_parse_error() -> None:
    client = ClientEngineSession(now=0.0, transport=Transport.WEBSOCKET)
    client.data_to_send()
    client.attach_websocket(0.0)
    client.receive_ws_frame(b"\x00\x01", 0.0)
    assert outputs(client) == [WebSocketClose(1000)]
    assert closed_with(client).reason == "parse error"


def test_v4_server_cannot_send_a_binary_payload() -> None:
    client = polling_client()
    outputs(client)
    client.receive_polling_response(b"\x00\x02\xff46", "application/octet-stream", 0.1)
    assert closed_with(client).reason == "parse error"


def test_oversized_polling_response_is_refused() -> None:
    client = ClientEngineSession(now=0.0, max_payload=100)
    client.data_to_send()
    client.receive_polling_response("4" + "x" * 200, TEXT, 0.0)
    assert closed_with(client).reason == "transport error"


def test_oversized_websocket_message_closes_with_1009() -> None:
    client = ClientEngineSession(now=0.0, transport=Transport.WEBSOCKET, max_payload=100)
    client.data_to_send()
    client.attach_websocket(0.0)
    client.receive_ws_frame(open_data(upgrades=[]), 0.0)
    client.receive_ws_frame(b"x" * 101, 0.1)
    assert outputs(client) == [WebSocketClose(1009)]
    assert closed_with(client).reason == "transport error"


def test_websocket_parse_error_closes_with_1002() -> None:
    client = ClientEngineSession(now=0.0, transport=Transport.WEBSOCKET)
    client.data_to_send()
    client.attach_websocket(0.0)
    client.receive_ws_frame(open_data(upgrades=[]), 0.0)
    client.receive_ws_frame("9", 0.1)
    assert outputs(client) == [WebSocketClose(1002)]
    assert closed_with(client).reason == "parse error"


def test_b64_client_asks_for_base64() -> None:
    client = ClientEngineSession(now=0.0, eio=3, b64=True)
    [request] = client.data_to_send()
    assert isinstance(request, PollRequest)
    assert ("b64", "1") in request.query


def test_handshake_timeout() -> None:
    # K05: a server that accepts the request and never answers.
    client = ClientEngineSession(now=0.0, open_timeout=5.0)
    client.data_to_send()
    assert client.next_deadline() == 5.0
    client.handle_timer(5.0)
    assert closed_with(client) == Closed(CloseReason.TRANSPORT_ERROR, "handshake timeout")
    assert outputs(client) == []


def test_empty_v3_handshake_payload_is_a_parse_error() -> None:
    client = ClientEngineSession(now=0.0, eio=3)
    client.data_to_send()
    client.receive_polling_response("0:", TEXT, 0.0)
    assert closed_with(client) == Closed(
        CloseReason.PARSE_ERROR, "the handshake response has no OPEN packet"
    )


def test_probe_that_cannot_connect_changes_nothing() -> None:
    client = polling_client(upgrade=True)
    outputs(client)
    client.transport_closed(Transport.WEBSOCKET, 0.01)
    assert client.state is State.OPEN
    client.attach_websocket(0.02)  # too late: not wanted any more
    assert outputs(client) == [WebSocketClose(1000)]


def test_oversized_probe_answer_closes_the_probe_with_1009() -> None:
    client = ClientEngineSession(now=0.0, max_payload=150)
    client.data_to_send()
    client.receive_polling_response(open_data(), TEXT, 0.0)
    assert client.state is State.OPEN
    client.data_to_send()
    client.attach_websocket(0.01)
    client.data_to_send()
    client.receive_ws_frame("3" + "p" * 200, 0.02)
    assert outputs(client) == [WebSocketClose(1009)]
    assert client.state is State.OPEN


def test_probe_lost_while_pausing_resumes_polling() -> None:
    client = upgrading_client()
    client.send("m1")
    assert outputs(client) == [post_of("4m1")]
    client.receive_ws_frame("3probe", 0.02)
    client.receive_polling_response("6", TEXT, 0.03)  # the GET is back; the POST is not
    assert outputs(client) == []
    client.transport_closed(Transport.WEBSOCKET, 0.04)
    assert outputs(client) == [POLL]  # polling resumes
    client.polling_post_done(0.05)
    assert client.state is State.OPEN
    assert client.transport is Transport.POLLING


def test_close_gives_up_on_a_post_that_never_returns() -> None:
    client = polling_client()
    outputs(client)
    client.send("a")
    client.close(now=0.01)
    assert outputs(client) == [post_of("4a")]
    client.receive_polling_response("4ignored while closing", TEXT, 0.02)
    assert client.events_received() == [MessageReceived("ignored while closing")]
    client.handle_timer(30.01)
    assert closed_with(client) == Closed(CloseReason.FORCED_CLOSE, "close timeout")


def test_websocket_that_cannot_connect_is_a_transport_error() -> None:
    client = ClientEngineSession(now=0.0, transport=Transport.WEBSOCKET)
    client.data_to_send()
    client.transport_closed(Transport.WEBSOCKET, 0.1)
    assert closed_with(client) == Closed(CloseReason.TRANSPORT_ERROR, "WebSocket connection failed")


def test_websocket_closed_by_the_server_is_transport_close() -> None:
    client = ClientEngineSession(now=0.0, transport=Transport.WEBSOCKET)
    client.data_to_send()
    client.attach_websocket(0.0)
    client.receive_ws_frame(open_data(upgrades=[]), 0.0)
    client.transport_closed(Transport.WEBSOCKET, 0.1)
    assert outputs(client) == []
    assert closed_with(client) == Closed(CloseReason.TRANSPORT_CLOSE)
