"""The sans-I/O parts of the caps (siox.caps) and of conflation, on a hand-moved clock."""

from __future__ import annotations

import pytest

from siox.caps import LogGate, RateLimiter, SourceCounts, TokenBucket
from siox.engineio.outbox import Outbox
from siox.engineio.packet import EnginePacket, EnginePacketType
from siox.socketio.conflation import EventConflation


def test_token_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(rate=10, burst=5, now=0.0)
    assert [bucket.take(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.take(0.05) is False  # half a token
    assert bucket.take(0.1) is True
    assert [bucket.take(100.0) for _ in range(6)] == [True] * 5 + [False]  # capped at burst


def test_token_bucket_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="rate > 0"):
        TokenBucket(0, 1, 0.0)


def test_rate_limiter_is_per_source_and_bounded_in_memory() -> None:
    limiter = RateLimiter(rate=1, burst=2, max_sources=100)
    assert [limiter.allow("a", 0.0) for _ in range(3)] == [True, True, False]
    assert limiter.allow("b", 0.0) is True
    for i in range(1_000):  # an address spray
        limiter.allow(i, 10.0 + i)
    assert len(limiter) <= 100


def test_source_counts_forget_zero() -> None:
    counts = SourceCounts()
    assert counts.add("a") == 1
    assert counts.add("a") == 2
    counts.remove("a")
    counts.remove("a")
    counts.remove("a")  # below zero: ignored
    assert counts.get("a") == 0
    assert len(counts) == 0
    assert counts.total == 0


def test_log_gate_lets_one_line_per_source_per_interval_with_the_count() -> None:
    gate = LogGate(interval=10.0)
    first = gate.note("k", "1.2.3.4", 0.0)
    assert first is not None and first.count == 1
    assert all(gate.note("k", "1.2.3.4", t / 10) is None for t in range(1, 90))
    assert gate.note("k", "5.6.7.8", 1.0) is not None  # another source
    again = gate.note("k", "1.2.3.4", 10.0)
    assert again is not None and again.count == 90  # 89 suppressed + this one


def _message(text: str) -> EnginePacket:
    return EnginePacket(EnginePacketType.MESSAGE, text)


def test_outbox_replace_keeps_the_place_and_the_byte_count() -> None:
    outbox = Outbox(1000)
    outbox.push(_message("a"), 2, key="k")
    outbox.push(_message("bb"), 3)
    assert outbox.replace("k", _message("cccc"), 5)
    assert outbox.size == 8
    assert [p.data for p in outbox.take_all()] == ["cccc", "bb"]
    assert not outbox.replace("k", _message("d"), 2)  # already sent


def test_outbox_replace_after_a_partial_take() -> None:
    outbox = Outbox(1000)
    outbox.push(_message("1"), 2, key="x")
    outbox.push(_message("2"), 2, key="y")
    assert [p.data for p in outbox.take_batch(3, eio=4, b64=False)] == ["1"]
    assert not outbox.replace("x", _message("3"), 2)
    assert outbox.replace("y", _message("4"), 2)
    assert [p.data for p in outbox.take_all()] == ["4"]


def test_an_outbox_emptied_any_way_queues_again_in_order() -> None:
    outbox = Outbox(1000)
    assert outbox.take_all() == [] and outbox.take_batch(10, eio=4, b64=False) == []
    assert len(outbox) == 0 and outbox.peek() == () and outbox.size == 0
    for _ in range(2):  # emptied by take_all, then by take_batch
        outbox.push(_message("a"), 2, key="k")
        outbox.push(_message("b"), 2)
        assert outbox.peek() == (_message("a"), _message("b")) and outbox.size == 4
        assert [p.data for p in outbox.take_all()] == ["a", "b"]
        assert not outbox.replace("k", _message("c"), 2) and outbox.size == 0
        outbox.push(_message("d"), 2)
        assert [p.data for p in outbox.take_batch(100, eio=4, b64=False)] == ["d"]
        assert len(outbox) == 0 and outbox.size == 0


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ('2["position",1]', ("/", "position")),
        ('2/game,["position",{"x":1}]', ("/game", "position")),
        ('212["position",1]', None),  # an ack id: awaited, never conflated
        ('2["chat",1]', None),
        ('51-["position",{"_placeholder":true,"num":0}]', None),
        (b"\x93\x02", None),
        ('2["posi\\"tion",1]', None),
        ("2/game", None),
    ],
)
def test_event_conflation_key(message: str | bytes, key: tuple[str, str] | None) -> None:
    conflation = EventConflation()
    conflation.add("/", "position")
    conflation.add("/game", "position")
    assert conflation(message) == key
