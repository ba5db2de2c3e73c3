"""Namespaces (static, dynamic by regex, unknown) share one connection, and a middleware's
refusal reaches socket.io-client as connect_error with its data."""

from __future__ import annotations

import pytest

from interop.scenarios import run_scenario
from interop.server_process import ServerProcess

pytestmark = pytest.mark.interop


def test_static_and_dynamic_namespaces_multiplex_on_one_connection(
    interop_server: ServerProcess,
) -> None:
    result = run_scenario("namespaces", interop_server)
    assert result["greetings"] == {
        "/": [{}],
        "/custom": [{}],
        "/dyn-42": ["/dyn-42"],
        "/dyn-7": ["/dyn-7"],
    }
    assert result["whoami"] == {
        nsp: {"nsp": nsp, "id_matches": True} for nsp in ("/", "/custom", "/dyn-42", "/dyn-7")
    }
    assert result["one_engine"] is True
    assert result["custom_echo"] == ["only-custom"]
    assert result["root_events"] == []


def test_unknown_namespace_is_refused_with_invalid_namespace(
    interop_server: ServerProcess,
) -> None:
    refused = run_scenario("namespaces", interop_server)["refused"]
    assert refused == {
        "/random": {"message": "Invalid namespace", "data": None},
        "/dyn-x": {"message": "Invalid namespace", "data": None},
    }


def test_middleware_refusal_reaches_client_as_connect_error_with_data(
    interop_server: ServerProcess,
) -> None:
    result = run_scenario("auth", interop_server)
    refusal = {
        "message": "not authorized",
        "data": {"reason": "bad token"},
        "connected": False,
        "active": False,
    }
    assert result["none"] == refusal
    assert result["wrong"] == refusal
    assert result["right"] == {"welcome": ["/private"], "echo": ["in"]}
    assert result["root_auth_echo"] == [{"token": "123"}]
