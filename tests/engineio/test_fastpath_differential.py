"""Differential test: an `EngineSession` (and the `SocketConnection` on it) answers the same
with the fast paths on and off.

Two sessions are built alike and fed the same random sequence of inputs on a manual clock: a
WebSocket message, a polling GET or POST, an upgrade, a message sent by the application, a
write pause, a close, and clock advances of random size with or without the timer being run
(a clock advance alone is an event loop that is late). One runs with `siox.fastpaths.ENABLED`,
the other without; after every input their return values (or exceptions), outputs, events,
next deadline and state must be identical. A frame `send_direct` hands back for direct writing
counts as the `WebSocketSend` the general path queues. On top of each session a
`SocketConnection` takes the messages, joins every namespace asked for and acks every event
(through ``send_direct``), so its fast paths are compared in the same runs.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import example, given, settings, strategies as st

from fastswitch import fast_paths
from siox.engineio.events import MessageReceived
from siox.engineio.handshake import Transport
from siox.engineio.outputs import WebSocketSend
from siox.engineio.session import EngineSession
from siox.socketio.connection import SocketConnection
from siox.socketio.events import ConnectRequested, EventReceived
from siox.socketio.parsers import resolve_parser

MAX_PAYLOAD = 64


# Socket.IO packets (for the `SocketConnection` on top), random text, and sizes around the
# limits (64 bytes: 16 characters is the most the fast path takes without measuring UTF-8).
socketio_packets = st.sampled_from(
    [
        "0",
        "0/chat,",
        '2["echo",1]',
        '21["echo","é"]',
        '2/chat,3["echo"]',
        "3[1]",
        "31[]",
        '51-["echo",{"_placeholder":true,"num":0}]',
        "1",
        "2[]",
        '2["a"',
    ]
)
texts = (
    st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
    | socketio_packets
    | st.sampled_from(
        ["x" * 15, "x" * 16, "x" * 70, "é" * 21, "é" * 40, "€" * 20, "€" * 22, "\U0001f600" * 17]
    )
)
blobs = st.binary(max_size=8) | st.sampled_from([b"\x00" * 63, b"\x01" * 70])
ws_frames = st.one_of(
    *[texts.map(lambda t: "4" + t)] * 4,
    *[blobs] * 2,
    blobs.map(lambda b: b"\x04" + b),
    blobs.map(lambda b: "b" + base64.b64encode(b).decode()),
    blobs.map(lambda b: "b4" + base64.b64encode(b).decode()),
    st.sampled_from(["2", "3", "2probe", "3probe", "5", "1", "6", "0", "", "9", "bx=", b""]),
)
post_bodies = st.one_of(
    texts.map(lambda t: ("4" + t).encode()),
    st.sampled_from([b"2", b"3", b"1", b"6", b"4a\x1e4b", b"1:4", b"2:4a", b"", b"\xff"]),
)
# Weighted towards what reaches the fast paths: messages on a steady WebSocket over a clock
# that moves (sometimes past a deadline without the timer having run).
inputs = st.one_of(
    *[st.tuples(st.just("ws"), ws_frames)] * 6,
    *[st.tuples(st.just("advance"), st.sampled_from([0.01, 0.05, 0.1, 0.2, 0.3, 0.6]))] * 4,
    *[st.tuples(st.just("send"), st.one_of(texts, blobs, st.just("\ud800"), st.just(1)))] * 3,
    st.tuples(st.just("timer"), st.none()),
    st.tuples(st.just("send volatile"), st.one_of(texts, blobs)),
    st.tuples(st.just("get"), st.none()),
    st.tuples(st.just("post"), post_bodies),
    st.tuples(st.just("attach"), st.booleans()),
    st.tuples(st.just("pause"), st.none()),
    st.tuples(st.just("resume"), st.none()),
    st.tuples(st.just("close"), st.none()),
    st.tuples(st.just("ws closed"), st.none()),
    st.tuples(st.just("poll closed"), st.none()),
)


def apply(session: EngineSession, kind: str, arg: Any, now: float) -> Any:
    """Feed one input; return what the driver would see of its result."""
    if kind == "ws":
        # As the driver feeds it: a message the fast path hands back comes out as the event
        # the general path queues (`observe` puts it first among the events).
        data = session.receive_ws_frame(arg, now, direct=True)
        return None if data is None else MessageReceived(data)
    if kind == "timer":
        return session.handle_timer(now)
    if kind in ("send", "send volatile"):
        frame = session.send_direct(arg, volatile=kind == "send volatile")
        return None if frame is None else WebSocketSend(frame)
    if kind == "get":
        return session.polling_get(now)
    if kind == "post":
        return session.receive_polling_post(arg, "text/plain;charset=UTF-8", now)
    if kind == "attach":
        return session.attach_websocket(now, b64=arg)
    if kind == "pause":
        return session.pause_writing()
    if kind == "resume":
        return session.resume_writing(now)
    if kind == "close":
        return session.close(now=now)
    if kind == "ws closed":
        return session.transport_closed(Transport.WEBSOCKET, now)
    assert kind == "poll closed"
    return session.transport_closed(Transport.POLLING, now)


class Peer:
    """One server: an Engine.IO session and the Socket.IO connection on it, acking every event."""

    def __init__(self, session: EngineSession, conn: SocketConnection) -> None:
        self.session = session
        self.conn = conn
        self.written: list[WebSocketSend] = []

    def observe(self, kind: str, arg: Any, now: float, enabled: bool) -> Any:
        """Feed one input with the fast paths on or off; return everything that came out."""
        with fast_paths(enabled):
            session = self.session
            written: list[Any] = []  # frames the driver writes directly, in order
            try:
                result = apply(session, kind, arg, now)
            except Exception as exc:  # the exception is part of the answer
                result = (type(exc), str(exc))
            handed: list[Any] = []
            if isinstance(result, WebSocketSend):
                written.append(result)
                result = None
            elif isinstance(result, MessageReceived):
                handed.append(result)
                result = None
            outputs = session.data_to_send() + written
            events = handed + session.events_received()
            socketio = []
            self.written = []
            for event in events:
                if isinstance(event, MessageReceived):
                    socketio.append(self.deliver(event.data))
            # Direct writes need nothing queued before them: they precede what is queued now.
            outputs += self.written + session.data_to_send()
            return (
                result,
                outputs,
                events,
                socketio,
                session.events_received(),
                session.next_deadline(),
                session.state,
                session.transport,
                session.buffered_amount,
                sorted(self.conn.connected),
            )

    def deliver(self, data: str | bytes) -> Any:
        """The Socket.IO layer: accept every namespace, ack every event with its arguments."""
        try:
            events = self.conn.receive(data)
        except Exception as exc:
            return (type(exc), str(exc))
        for event in events:
            if isinstance(event, ConnectRequested):
                replies = self.conn.accept(event.nsp, "SID")
            elif isinstance(event, EventReceived) and event.ack_id is not None:
                replies = self.conn.ack(event.nsp, event.ack_id, event.args)
            else:
                continue
            for reply in replies:
                frame = self.session.send_direct(reply)
                if frame is not None:  # the driver writes it at once
                    self.written.append(WebSocketSend(frame))
        return events


_WS, _POLL = Transport.WEBSOCKET, Transport.POLLING
_LATE = [("advance", 0.35)]  # past the first v4 PING, the timer not run


@settings(max_examples=600)
# The drifted behaviours of issue 8, always tried (random inputs find them only now and then):
@example(_WS, 4, False, [*_LATE, ("ws", "4late")])  # a due v4 PING goes first
@example(_WS, 3, False, [("advance", 0.6), ("ws", "4late")])  # a v3 session timed out
@example(_WS, 4, False, [("advance", 0.3), ("timer", None), ("advance", 0.1), ("ws", "4a")])
@example(_WS, 4, False, [("ws", "4" + "€" * 20), ("ws", "4" + "€" * 22)])  # UTF-8 bytes
@example(_WS, 3, True, [("ws", "b4AQID"), ("ws", "bAQID"), ("ws", b"\x04\x01")])  # base64
@example(_WS, 4, False, [("send", "\ud800"), ("send", "é"), ("pause", None), ("send", "x")])
@example(_POLL, 4, False, [("get", None), ("attach", True), ("ws", "2probe"), ("ws", "5")])
@given(
    transport=st.sampled_from([Transport.WEBSOCKET, Transport.WEBSOCKET, Transport.POLLING]),
    eio=st.sampled_from([4, 3]),
    b64=st.booleans(),
    steps=st.lists(inputs, min_size=10, max_size=60),
)
def test_sessions_with_and_without_fast_paths_answer_alike(
    transport: Transport, eio: int, b64: bool, steps: list[tuple[str, Any]]
) -> None:
    def new() -> EngineSession:
        return EngineSession(
            "SID",
            transport=transport,
            now=0.0,
            eio=eio,
            b64=b64,
            ping_interval=0.3,
            ping_timeout=0.2,
            upgrade_timeout=0.5,
            close_timeout=0.4,
            max_payload=MAX_PAYLOAD,
            max_buffer_size=200,
        )

    def new_peer(enabled: bool) -> Peer:
        with fast_paths(enabled):
            session = new()
        protocol = 5 if eio == 4 else 4
        conn = SocketConnection(resolve_parser("default", protocol=protocol), protocol=protocol)
        if protocol == 4:
            conn.open_implicit({})
            conn.accept("/", "SID")
        return Peer(session, conn)

    fast, slow = new_peer(True), new_peer(False)
    now = 0.0
    assert fast.observe("timer", None, now, True) == slow.observe("timer", None, now, False)
    for kind, arg in steps:
        if kind == "advance":
            now = round(now + arg, 6)
            continue
        seen_fast = fast.observe(kind, arg, now, True)
        seen_slow = slow.observe(kind, arg, now, False)
        assert seen_fast == seen_slow, (kind, arg, now)


def test_steady_websocket_messages_take_the_fast_path() -> None:
    # The differential test is only meaningful if the fast path runs: check it does, here.
    calls: list[object] = []

    class Spied(EngineSession):
        __slots__ = ()

        def _ws_packet(self, frame: str | bytes, now: float) -> None:  # the general path
            calls.append(frame)

    session = Spied("SID", transport=Transport.WEBSOCKET, now=0.0)
    session.data_to_send()
    with fast_paths(True):
        session.receive_ws_frame("4hi", 1.0)
        session.receive_ws_frame(b"\x01", 1.0)
        assert session.send_direct("yo") == "4yo"
    assert calls == []
    with fast_paths(False):
        session.receive_ws_frame("4hi", 1.0)
        assert session.send_direct("yo") is None
    assert calls == ["4hi"]


@pytest.mark.parametrize(
    ("value", "enabled"), [(None, True), ("", True), ("0", True), ("1", False), ("yes", False)]
)
def test_siox_no_fast_paths_is_read_at_import(value: str | None, enabled: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SIOX_NO_FAST_PATHS"}
    if value is not None:
        env["SIOX_NO_FAST_PATHS"] = value
    code = "import siox.fastpaths; print(siox.fastpaths.ENABLED)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(enabled)
