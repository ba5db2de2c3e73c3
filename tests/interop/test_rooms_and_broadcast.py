"""Rooms, broadcasts (to, except, socket.to, a socket's own room), broadcast acks with a client
that never answers, and volatile emits, as socket.io-client 4.8 receives them."""

from __future__ import annotations

import pytest

from interop.scenarios import run_scenario
from interop.server_process import ServerProcess

pytestmark = pytest.mark.interop


def test_rooms_route_broadcasts_to_exactly_the_right_clients(
    interop_server: ServerProcess,
) -> None:
    result = run_scenario("rooms", interop_server)
    assert result["joined"] == {"a": [["r1"]], "b": [[["r1"]], [["r1", "r2"]]], "c": [["r2"]]}
    assert result["b_after_leave"] == [["r2"]]
    # a is in r1; b in r1 and r2 (then leaves r1); c in r2. a asks for every emit.
    assert result["a"] == [
        "e2-r1-except-r2",
        "e3-r1-and-r2",
        ["e4-everyone", 4],
        "e6-r1-after-leave",
    ]
    assert result["b"] == [
        "e1-socket-to-r1",
        "e3-r1-and-r2",
        ["e4-everyone", 4],
        "e5-everyone-but-a",
        "e7-except-r1",
    ]
    assert result["c"] == [
        "e3-r1-and-r2",
        ["e4-everyone", 4],
        "e5-everyone-but-a",
        "e7-except-r1",
        "e8-to-c-id",
    ]


def test_broadcast_ack_times_out_with_the_replies_that_came(
    interop_server: ServerProcess,
) -> None:
    result = run_scenario("broadcast-acks", interop_server)
    silent = result["with_silent_client"]
    assert silent["timed_out"] is True
    assert sorted(r["from"] for r in silent["replies"]) == ["a", "b"]
    assert all(r["n"] == 7 for r in silent["replies"])
    assert 450 <= silent["elapsed_ms"] < 3000
    everyone = result["all_answer"]
    assert everyone["timed_out"] is False
    assert sorted(r["from"] for r in everyone["replies"]) == ["a", "b"]
    assert everyone["elapsed_ms"] < 2000, "completes when every client answered, not at 3 s"
    assert result["empty_room"]["replies"] == []
    assert result["empty_room"]["timed_out"] is False
    assert result["empty_room"]["elapsed_ms"] < 2000


def test_volatile_emit_reaches_an_idle_client(interop_server: ServerProcess) -> None:
    result = run_scenario("volatile", interop_server)
    assert result["received"] == [["v-idle", 1], ["barrier"]]
