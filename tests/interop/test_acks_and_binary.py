"""Acknowledgements in both directions (several, zero, timed out) and binary payloads in events
and acks, between socket.io-client 4.8 and the server."""

from __future__ import annotations

import pytest

from interop.expectations import check_acks, check_binary
from interop.scenarios import run_scenario
from interop.server_process import ServerProcess

pytestmark = pytest.mark.interop


def test_acks_both_directions_with_timeouts(interop_server: ServerProcess) -> None:
    check_acks(run_scenario("acks", interop_server))


@pytest.mark.parametrize("transports", ["websocket", "polling"])
def test_binary_in_events_and_acks(interop_server: ServerProcess, transports: str) -> None:
    check_binary(run_scenario("binary", interop_server, transports=transports))
