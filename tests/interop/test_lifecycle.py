"""Connection lifecycle with socket.io-client 4.8: the server disconnects a socket, the server
restarts, and a lost transport is recovered with the missed events (connection state recovery)."""

from __future__ import annotations

import pytest

from interop.scenarios import run_scenario, run_with_restart
from interop.server_process import ServerProcess

pytestmark = pytest.mark.interop


def test_server_disconnect_gives_io_server_disconnect_and_no_reconnection(
    interop_server: ServerProcess,
) -> None:
    result = run_scenario("server-disconnect", interop_server)
    assert result["custom_reason"] == "io server disconnect"
    assert result["root_after_custom_kick"] == ["still here"]
    assert result["root_reason"] == "io server disconnect"
    assert result["connected_after"] == [False, False]
    assert result["reconnect_attempts"] == 0


@pytest.mark.slow
def test_client_reconnects_after_server_restart(restartable_server: ServerProcess) -> None:
    result = run_with_restart("restart", restartable_server, restartable_server.restart)
    assert result["disconnect_reason"] in {"transport close", "transport error", "ping timeout"}
    assert result["reconnect_attempts"] >= 1
    assert result["new_id"] is True
    assert not result["recovered"]  # a new process has no session to restore
    assert result["echo"] == ["after restart"]


def test_lost_transport_is_recovered_with_missed_events(recovery_server: ServerProcess) -> None:
    result = run_scenario("recovery", recovery_server)
    assert result["recovered"] is True
    assert result["same_id"] is True
    assert result["whoami"] == {"recovered": True, "rooms": ["r-rec"], "same_id": True}
    # Replayed: the broadcast and the emit to a room the session was in. Not replayed: the
    # volatile emit (never buffered) and the emit to a room it was not in.
    assert result["missed"] == [
        {"event": "m-everyone", "args": [1], "offset_is_string": True},
        {"event": "m-room", "args": [2], "offset_is_string": True},
    ]
