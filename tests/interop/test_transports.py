"""socket.io-client 4.8 talks to the server over WebSocket only, polling only, and polling
upgraded to WebSocket: events, acks and many concurrent acks arrive intact."""

from __future__ import annotations

import pytest

from interop.scenarios import run_scenario
from interop.server_process import ServerProcess

pytestmark = pytest.mark.interop

ECHO_ROUND = {
    "message_back": [1, "2", {"3": [True]}],
    "ack": [1, "2", {"3": [False]}],
}
MANY_ACKS = [[i, i * 500] for i in range(20)]


@pytest.mark.parametrize(
    ("transports", "initial", "final"),
    [
        ("websocket", "websocket", "websocket"),
        ("polling", "polling", "polling"),
        ("default", "polling", "websocket"),
    ],
    ids=["websocket-only", "polling-only", "polling-then-upgrade"],
)
def test_echo_and_acks_over_each_transport(
    interop_server: ServerProcess, transports: str, initial: str, final: str
) -> None:
    result = run_scenario("transport", interop_server, transports=transports)
    assert result["initial_transport"] == initial
    assert result["final_transport"] == final
    assert result["before"] == ECHO_ROUND
    assert result["after"] == ECHO_ROUND
    assert result["many_acks"] == MANY_ACKS
