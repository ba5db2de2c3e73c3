"""The msgpack parser at both ends: socket.io-client 4.8 with socket.io-msgpack-parser against
the server built with parser="msgpack"."""

from __future__ import annotations

import pytest

from interop.expectations import check_acks, check_binary
from interop.scenarios import run_scenario
from interop.server_process import ServerProcess

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("transports", ["websocket", "polling", "default"])
def test_msgpack_echo_over_each_transport(msgpack_server: ServerProcess, transports: str) -> None:
    result = run_scenario("transport", msgpack_server, parser="msgpack", transports=transports)
    echo = {"message_back": [1, "2", {"3": [True]}], "ack": [1, "2", {"3": [False]}]}
    assert result["before"] == echo
    assert result["after"] == echo
    assert result["many_acks"] == [[i, i * 500] for i in range(20)]


@pytest.mark.parametrize("transports", ["websocket", "polling"])
def test_msgpack_binary_in_events_and_acks(msgpack_server: ServerProcess, transports: str) -> None:
    check_binary(run_scenario("binary", msgpack_server, parser="msgpack", transports=transports))


def test_msgpack_acks_both_directions(msgpack_server: ServerProcess) -> None:
    check_acks(run_scenario("acks", msgpack_server, parser="msgpack"))


def test_msgpack_namespaces(msgpack_server: ServerProcess) -> None:
    result = run_scenario("namespaces", msgpack_server, parser="msgpack")
    assert result["greetings"]["/dyn-42"] == ["/dyn-42"]
    assert result["refused"]["/random"] == {"message": "Invalid namespace", "data": None}


@pytest.mark.parametrize("transports", ["websocket", "polling"])
def test_msgpack_module_as_the_server_parser_serves_the_npm_msgpack_client(
    msgpack_module_server: ServerProcess, transports: str
) -> None:
    result = run_scenario(
        "transport", msgpack_module_server, parser="msgpack", transports=transports
    )
    echo = {"message_back": [1, "2", {"3": [True]}], "ack": [1, "2", {"3": [False]}]}
    assert result["before"] == echo
    assert result["after"] == echo
    check_binary(
        run_scenario("binary", msgpack_module_server, parser="msgpack", transports=transports)
    )
