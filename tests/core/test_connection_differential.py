"""Differential test: a `ServerConnection` and a `ClientConnection` answer the same with the fast
paths on and off.

Each input is fed as the drivers feed it (`siox.server.engine_socket`, `siox.client.engine`):
a WebSocket message through ``receive_ws_message`` (whose Socket.IO events, when the fast paths
hand them back, are dispatched without pumping), a polling GET or POST, a timer, a clock
advance alone (a late event loop), an emit by the application; then the connection is pumped
(`Pump` semantics: outputs, then events, each `MessageReceived` through ``decode``). The server
side joins every namespace asked for and acks every event through ``send_direct``, as the
server's driver does. After every input both connections must have given identical Socket.IO
events, outputs, deadlines and state.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from hypothesis import example, given, settings, strategies as st

from fastswitch import fast_paths, plain
from siox.core import ClientConnection, ProtocolViolation, ServerConnection
from siox.engineio.events import MessageReceived
from siox.engineio.handshake import Transport
from siox.engineio.outputs import WebSocketSend
from siox.socketio.events import ConnectRequested, EventReceived
from siox.socketio.parsers import resolve_parser

MAX_PAYLOAD = 64


socketio_packets = st.sampled_from(
    [
        "0",
        "0/chat,",
        '2["echo",1]',
        '21["echo","é"]',
        '2/chat,3["echo"]',
        '2/nope,["echo"]',
        "3[1]",
        "31[]",
        '51-["echo",{"_placeholder":true,"num":0}]',
        "1",
        "1/chat,",
        "2[]",
        '2["a"',
        "4",
    ]
)
texts = (
    socketio_packets
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=6)
    | st.sampled_from(['2["' + "x" * 12 + '"]', '2["' + "€" * 20 + '"]'])
)
blobs = st.binary(max_size=6)
ws_frames = st.one_of(
    *[socketio_packets.map(lambda t: "4" + t)] * 6,
    texts.map(lambda t: "4" + t),
    blobs,
    blobs.map(lambda b: "b4" + base64.b64encode(b).decode()),
    st.sampled_from(["2", "3", "2probe", "5", "1", "6", ""]),
)
# Polling POST bodies: batches of MESSAGE records (the POST fast path), mixed with other
# packets, too large, malformed, not UTF-8; under each Content-Type a client may send.
post_records = st.one_of(
    *[socketio_packets.map(lambda t: "4" + t)] * 4,
    texts.map(lambda t: "4" + t.replace("\x1e", "")),
    st.sampled_from(["3", "2", "6", "1", "5", "", "4", "b4AA==", "4" + "x" * 70]),
)
post_bodies = st.one_of(
    st.lists(post_records, min_size=1, max_size=4).map(lambda rs: "\x1e".join(rs).encode()),
    st.sampled_from([b"\xff4", b"4\xc3", b"4a\x1e", b"42[]\x1e", b"\x1e42[]"]),
)
content_types = st.sampled_from(
    ["text/plain;charset=UTF-8", "text/plain", None, "application/octet-stream", "text/html"]
)
inputs = st.one_of(
    *[st.tuples(st.just("ws"), ws_frames)] * 8,
    *[st.tuples(st.just("advance"), st.sampled_from([0.01, 0.1, 0.2, 0.35, 0.6]))] * 3,
    st.tuples(st.just("timer"), st.none()),
    st.tuples(st.just("emit"), texts),
    st.tuples(st.just("get"), st.none()),
    st.tuples(st.just("post"), socketio_packets.map(lambda t: ("4" + t).encode())),
    *[st.tuples(st.just("post"), st.tuples(post_bodies, content_types))] * 3,
    st.tuples(st.just("attach"), st.booleans()),
    st.tuples(st.just("close"), st.none()),
)


class ServerPeer:
    """A `ServerConnection` driven as `EngineSocket` + `ConnectionDriver` drive it."""

    def __init__(self, conn: ServerConnection) -> None:
        self.conn = conn
        self.written: list[Any] = []
        self.socketio: list[Any] = []

    def dispatch(self, events: Sequence[Any]) -> None:
        self.socketio += plain(events)
        sio = self.conn.socketio
        for event in events:
            if isinstance(event, ConnectRequested):
                replies = sio.accept(event.nsp, "SID")
            elif isinstance(event, EventReceived) and event.ack_id is not None:
                replies = sio.ack(event.nsp, event.ack_id, event.args)
            else:
                continue
            self.send(replies)

    def send(self, messages: Sequence[str | bytes]) -> None:
        for message in messages:
            frame = self.conn.send_direct(message)
            if frame is not None:
                self.written.append(WebSocketSend(frame))

    def pump(self) -> None:
        while (pending := self.conn.drain()) is not None:
            outputs, events = pending
            self.written += outputs
            for event in events:
                if type(event) is MessageReceived:
                    self.dispatch(self.conn.decode(event.data))
                else:
                    self.socketio.append(event)

    def observe(self, kind: str, arg: Any, now: float, enabled: bool) -> Any:
        with fast_paths(enabled):
            conn = self.conn
            self.written, self.socketio = [], []
            result: Any = None
            try:
                if kind == "ws":
                    events = conn.receive_ws_message(arg, now)
                    if events is not None:
                        self.dispatch(events)
                elif kind == "timer":
                    conn.handle_timer(now)
                elif kind == "emit":
                    self.send(conn.socketio.event("/", ["news", arg]))
                elif kind == "get":
                    conn.polling_get(now)
                elif kind == "post":
                    # As `EngineSocket.polling_post_now`: corked while the messages are reported.
                    body, content_type = (
                        arg if isinstance(arg, tuple) else (arg, "text/plain;charset=UTF-8")
                    )
                    conn.cork()
                    try:
                        try:
                            result = conn.receive_polling_post(body, content_type, now)
                        finally:
                            self.pump()
                    finally:
                        conn.uncork()
                elif kind == "attach":
                    conn.attach_websocket(now, b64=arg)
                else:
                    assert kind == "close"
                    conn.close(now=now)
            except Exception as exc:  # the exception is part of the answer
                result = (type(exc), str(exc))
            self.pump()
            return (
                result,
                self.written,
                self.socketio,
                conn.next_deadline(),
                conn.state,
                conn.transport,
                sorted(conn.socketio.connected),
                sorted(conn.socketio.pending),
            )


_LATE = [("advance", 0.35)]  # past the first v4 PING, the timer not run


@settings(max_examples=300, deadline=None)
@example(_WS := Transport.WEBSOCKET, 4, [*_LATE, ("ws", "40"), ("ws", '42["a"]')])
@example(Transport.WEBSOCKET, 3, [("advance", 0.6), ("ws", '42["a"]')])  # v3 timed out
@example(Transport.WEBSOCKET, 4, [("ws", "40"), ("ws", '42/chat,["a"]')])  # not joined
@example(Transport.WEBSOCKET, 4, [("ws", "40"), ("ws", '42["a"'), ("ws", '421["a"]')])
@example(Transport.POLLING, 4, [("get", None), ("post", b"40"), ("post", b'421["a"]')])
@example(
    Transport.POLLING,
    4,
    [
        ("get", None),
        ("post", b"40"),
        ("get", None),
        ("post", (b'421["a"]\x1e422["b"]\x1e3', "text/plain")),
        ("get", None),
        ("post", (b'423["a"]\x1e424["b"]', None)),
        ("advance", 0.35),
        ("post", (b'425["a"]', "text/plain;charset=UTF-8")),
    ],
)
@given(
    transport=st.sampled_from([Transport.WEBSOCKET, Transport.WEBSOCKET, Transport.POLLING]),
    eio=st.sampled_from([4, 3]),
    steps=st.lists(inputs, min_size=5, max_size=40),
)
def test_server_connections_with_and_without_fast_paths_answer_alike(
    transport: Transport, eio: int, steps: list[tuple[str, Any]]
) -> None:
    def new_peer(enabled: bool) -> ServerPeer:
        with fast_paths(enabled):
            conn = ServerConnection(
                "SID",
                parser=resolve_parser("default", protocol=ServerConnection.protocol_for(eio)),
                transport=transport,
                now=0.0,
                eio=eio,
                ping_interval=0.3,
                ping_timeout=0.2,
                upgrade_timeout=0.5,
                close_timeout=0.4,
                max_payload=MAX_PAYLOAD,
                max_buffer_size=400,
            )
        peer = ServerPeer(conn)
        if eio == 3:  # protocol 4: the main namespace is joined when the session opens
            peer.dispatch([conn.socketio.open_implicit({})])
        return peer

    fast, slow = new_peer(True), new_peer(False)
    now = 0.0
    assert fast.observe("timer", None, now, True) == slow.observe("timer", None, now, False)
    for kind, arg in steps:
        if kind == "advance":
            now = round(now + arg, 6)
            continue
        assert fast.observe(kind, arg, now, True) == slow.observe(kind, arg, now, False), (
            kind,
            arg,
            now,
        )


def test_a_steady_websocket_message_comes_out_as_its_socketio_event() -> None:
    # The differential test is only meaningful if the fast paths run: check they do, here.
    conn = ServerConnection(
        "SID", parser=resolve_parser("default"), transport=Transport.WEBSOCKET, now=0.0
    )
    conn.drain()
    conn.socketio.accept("/", "S1")
    with fast_paths(True):
        assert conn.receive_ws_message('42["hi",1]', 1.0) == [EventReceived("/", ["hi", 1], None)]
    with fast_paths(False):
        assert conn.receive_ws_message('42["hi",1]', 1.0) is None  # queued for the pump
        pending = conn.drain()
        assert pending is not None and pending[1] == [MessageReceived('2["hi",1]')]


def test_a_packet_breaking_the_protocol_state_is_a_violation_not_an_exception() -> None:
    conn = ServerConnection(
        "SID", parser=resolve_parser("default"), transport=Transport.WEBSOCKET, now=0.0
    )
    (invalid,) = conn.decode('2/admin,["x"]')  # namespace not joined
    assert isinstance(invalid, ProtocolViolation)
    assert (invalid.reason, invalid.invalid_state) == ("forced server close", True)
    (malformed,) = conn.decode('2["x"')
    assert isinstance(malformed, ProtocolViolation)
    assert (malformed.reason, malformed.invalid_state) == ("parse error", False)


def test_the_client_connection_decodes_with_socket_ids_from_the_open_packet() -> None:
    conn = ClientConnection(
        parser=resolve_parser("default", protocol=4), now=0.0, transport=Transport.WEBSOCKET, eio=3
    )
    conn.drain()
    conn.attach_websocket(0.0)
    conn.receive_ws_message('0{"sid":"E1","upgrades":[],"pingInterval":300,"pingTimeout":200}', 0.0)
    conn.drain()
    assert conn.socketio.legacy_socket_id("/chat") == "/chat#E1"
    (bad,) = conn.decode("x")
    assert isinstance(bad, ProtocolViolation) and bad.reason == "parse error"
