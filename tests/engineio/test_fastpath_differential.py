"""Differential test: an `EngineSession` gives the same answers with its fast paths on and off.

Two sessions are built alike and fed the same random sequence of inputs on a manual clock: a
WebSocket message, a polling GET or POST, an upgrade, a message sent by the application, a
write pause, a close, and clock advances of random size with or without the timer being run
(a clock advance alone is an event loop that is late). One runs with `siox.fastpaths.ENABLED`,
the other without; after every input their return values (or exceptions), outputs, events,
next deadline and state must be identical. A frame `send_direct` hands back for direct writing
counts as the `WebSocketSend` the general path queues.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import example, given, settings, strategies as st

import siox.fastpaths
from siox.engineio.handshake import Transport
from siox.engineio.outputs import WebSocketSend
from siox.engineio.session import EngineSession

MAX_PAYLOAD = 64


@contextmanager
def fast_paths(enabled: bool) -> Iterator[None]:
    saved = siox.fastpaths.ENABLED
    siox.fastpaths.ENABLED = enabled
    try:
        yield
    finally:
        siox.fastpaths.ENABLED = saved


texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=8) | st.sampled_from(
    ["x" * 15, "x" * 16, "x" * 70, "é" * 21, "é" * 40, "€" * 20, "€" * 22, "\U0001f600" * 17]
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
        return session.receive_ws_frame(arg, now)
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


def observe(session: EngineSession, kind: str, arg: Any, now: float, enabled: bool) -> Any:
    with fast_paths(enabled):
        try:
            result = apply(session, kind, arg, now)
        except Exception as exc:  # the exception is part of the answer
            result = (type(exc), str(exc))
        outputs = session.data_to_send()
        if isinstance(result, WebSocketSend):  # written directly by the driver, in order
            outputs.append(result)
            result = None
        return (
            result,
            outputs,
            session.events_received(),
            session.next_deadline(),
            session.state,
            session.transport,
            session.buffered_amount,
        )


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

    with fast_paths(True):
        fast = new()
    with fast_paths(False):
        slow = new()
    now = 0.0
    assert observe(fast, "timer", None, now, True) == observe(slow, "timer", None, now, False)
    for kind, arg in steps:
        if kind == "advance":
            now = round(now + arg, 6)
            continue
        seen_fast = observe(fast, kind, arg, now, True)
        seen_slow = observe(slow, kind, arg, now, False)
        assert seen_fast == seen_slow, (kind, arg, now)


def test_steady_websocket_messages_take_the_fast_path() -> None:
    # The differential test is only meaningful if the fast path runs: check it does, here.
    calls: list[object] = []
    session = EngineSession("SID", transport=Transport.WEBSOCKET, now=0.0)
    session.data_to_send()
    session._ws_packet = lambda frame, now: calls.append(frame)  # type: ignore[method-assign]
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
