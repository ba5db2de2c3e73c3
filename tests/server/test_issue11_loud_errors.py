"""Issue 11, "loud, not silent": refused origins are logged (10) and misuse is an immediate,
clear error (12). The client's side of 12 and item 9 are in tests/client/test_issue11_client.py.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import siox
from siox.testing import TestServer


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


async def test_item10_a_refused_origin_is_logged_once_with_the_option_that_allows_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="siox")
    async with TestServer(siox.Server()) as server:
        for _ in range(3):
            with pytest.raises(siox.ConnectionRefused, match="400"):
                await server.open(headers={"origin": "http://evil.example"})
        with pytest.raises(siox.ConnectionRefused):
            await server.open(headers={"origin": "http://other.example"})
        same = await server.open(headers={"origin": "http://testserver"})  # same origin
        assert same.close_code is None
    lines = _warnings(caplog)
    assert len(lines) == 2
    assert "'http://evil.example'" in lines[0] and "cors_allowed_origins" in lines[0]
    assert "'http://other.example'" in lines[1]


def test_item10_past_the_remembered_origins_warnings_are_rate_limited(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from siox.server.cors import WARNED_ORIGINS, WARNING_INTERVAL, CorsPolicy

    caplog.set_level(logging.WARNING, logger="siox")
    now = [1000.0]
    policy = CorsPolicy(["https://app.example"], clock=lambda: now[0])
    for number in range(WARNED_ORIGINS + 50):
        assert not policy.allows({"origin": f"https://x{number}.example"}, True)
    assert len(_warnings(caplog)) == WARNED_ORIGINS + 1  # then one per interval
    now[0] += WARNING_INTERVAL
    assert not policy.allows({"origin": "https://late.example"}, True)
    assert len(_warnings(caplog)) == WARNED_ORIGINS + 2
    assert policy.allows({"origin": "https://app.example"}, True)


def test_item12_registering_something_that_is_not_callable_is_a_type_error() -> None:
    sio = siox.Server()
    with pytest.raises(TypeError, match="callable"):
        sio.on("x")(42)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="callable"):
        sio.on("x", "handler")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="callable"):
        sio.of("/chat").use(None)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="callable"):
        sio.on_any(42)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="callable"):
        siox.Client("http://h").socket("/").on("x")(42)  # type: ignore[type-var]


@pytest.mark.parametrize(
    "build",
    [
        lambda: siox.Server(ping_interval=25000),
        lambda: siox.Server(ping_timeout=20000),
        lambda: siox.Server(connect_timeout=45000),
        lambda: siox.Server(upgrade_timeout=10000),
        lambda: siox.EngineServer(ping_interval=25000),
        lambda: siox.Client("http://h", reconnection_delay=1000),
        lambda: siox.Client("http://h", timeout=20000),
        lambda: siox.connect("http://h", reconnection_delay_max=5000),
    ],
    ids=["ping_interval", "ping_timeout", "connect_timeout", "upgrade_timeout", "engine",
         "reconnection_delay", "timeout", "connect"],
)  # fmt: skip
def test_item12_durations_in_milliseconds_are_refused_saying_durations_are_seconds(
    build: Any,
) -> None:
    with pytest.raises(ValueError, match="durations are seconds"):
        build()


def test_item12_long_durations_in_seconds_are_accepted() -> None:
    sio = siox.Server(ping_interval=3600, connect_timeout=3600.0)
    assert sio.options.engine.ping_interval == 3600


def test_item12_python_socketio_catch_all_is_refused_pointing_to_on_any() -> None:
    sio = siox.Server()
    with pytest.raises(ValueError, match="on_any"):
        sio.on("*")
    with pytest.raises(ValueError, match="on_any"):
        sio.of("/chat").on("*", lambda socket, *args: None)


async def test_item12_a_connect_handler_returning_false_refuses_and_says_how() -> None:
    sio = siox.Server()
    errors: list[BaseException] = []
    sio.on_error(errors.append)

    @sio.on("connect")
    def connect(socket: siox.Socket, auth: dict[str, Any]) -> bool:
        return auth.get("token") == "secret"

    async with TestServer(sio) as server:
        with pytest.raises(siox.ConnectionRefused):
            await server.connect(auth={"token": "wrong"})
        assert len(errors) == 1
        assert isinstance(errors[0], TypeError)
        assert "ConnectionRefused" in str(errors[0])
        client = await server.connect(auth={"token": "secret"})  # True: accepted
        assert client.connected


def test_item12_a_python_socketio_connect_signature_is_refused_at_registration() -> None:
    sio = siox.Server()
    with pytest.raises(TypeError, match="handshake"):

        @sio.event
        def connect(sid: str, environ: dict[str, Any], auth: Any) -> None: ...

    @sio.on("connect")
    def fine(socket: siox.Socket, auth: dict[str, Any], extra: Any = None) -> None: ...
