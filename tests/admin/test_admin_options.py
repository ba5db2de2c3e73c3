"""`sio.instrument` options and the observer seam, with in-memory clients (siox.testing)."""

from __future__ import annotations

from typing import Any

import pytest

import siox
from siox.admin import InMemoryStore
from siox.server.observer import ObservedConnection, ServerObserver
from siox.testing import TestServer

bcrypt = pytest.importorskip("bcrypt")
HASH = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
AUTH = {"type": "basic", "username": "admin", "password": HASH}


def test_auth_is_required_and_none_must_be_explicit() -> None:
    with pytest.raises(TypeError, match="auth is required"):
        siox.Server().instrument()
    siox.Server().instrument(auth=None)


@pytest.mark.parametrize(
    ("auth", "error"),
    [
        ({"type": "basic", "username": "admin", "password": "pw"}, ValueError),  # not a hash
        ({"type": "digest", "username": "admin", "password": HASH}, ValueError),
        ({"type": "basic", "username": "", "password": HASH}, ValueError),
        ("admin:pw", TypeError),
    ],
)
def test_bad_auth_options_are_refused_at_once(auth: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        siox.Server().instrument(auth=auth)


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        siox.Server().instrument(auth=None, mode="staging")


async def test_login_gives_a_session_and_refuses_others_with_invalid_credentials() -> None:
    sio = siox.Server()
    store = InMemoryStore()
    sio.instrument(auth=AUTH, store=store, mode="production")
    async with TestServer(sio) as server:
        ui = await server.connect("/admin", auth={"username": "admin", "password": "pw"})
        (session,) = await ui.wait_for("session")
        assert await store.session_exists(session)
        (config,) = await ui.wait_for("config")
        assert "JOIN" in config["supportedFeatures"]
        again = await server.connect("/admin", auth={"sessionId": session})
        assert again.connected
        for auth in ({"username": "admin", "password": "nope"}, {"sessionId": "x"}, None):
            with pytest.raises(siox.ConnectionRefused, match=r"^invalid credentials$"):
                await server.connect("/admin", auth=auth)


async def test_in_memory_sessions_expire() -> None:
    store = InMemoryStore(session_duration=-1)
    await store.save_session("s")
    assert not await store.session_exists("s")


async def test_an_uninstrumented_server_has_no_observer_and_unwrapped_connections() -> None:
    sio = siox.Server()
    async with TestServer(sio) as server:
        client = await server.connect()
        assert sio.observer is None
        (driver,) = sio.connections.values()
        assert not isinstance(driver.conn, ObservedConnection)
        assert client.connected


async def test_observers_hear_connections_sockets_and_errors_in_order() -> None:
    heard: list[tuple[str, Any]] = []

    class Recorder(ServerObserver):
        def connection_opened(self, conn: Any) -> None:
            heard.append(("opened", conn.transport))

        def socket_connected(self, socket: siox.Socket) -> None:
            heard.append(("socket", socket.nsp))

        def handler_error(self, exc: BaseException, context: Any) -> None:
            heard.append(("error", context.event))

        def socket_disconnected(self, socket: siox.Socket, reason: str) -> None:
            heard.append(("gone", reason))

    class Broken(ServerObserver):
        def socket_connected(self, socket: siox.Socket) -> None:
            raise RuntimeError("an observer that fails")

    sio = siox.Server()
    sio.on_error(lambda exc: None)
    sio.add_observer(Recorder())
    sio.add_observer(Broken())

    @sio.on("boom")
    def boom(socket: siox.Socket) -> None:
        raise ValueError("boom")

    async with TestServer(sio) as server:
        client = await server.connect()
        await client.emit("boom")
        await server.settle()
        await client.disconnect()
        await server.settle()
    assert heard == [
        ("opened", "websocket"),
        ("socket", "/"),
        ("error", "boom"),
        ("gone", "client namespace disconnect"),
    ]


async def test_a_failing_observer_alone_is_logged_and_the_socket_connects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(ServerObserver):
        def socket_connected(self, socket: siox.Socket) -> None:
            raise RuntimeError("an observer that fails")

    sio = siox.Server()
    sio.add_observer(Broken())
    async with TestServer(sio) as server:
        client = await server.connect()
        assert client.connected
    assert "an observer that fails" in caplog.text


def test_the_admin_namespace_cannot_be_instrumented_twice_or_shared() -> None:
    sio = siox.Server()
    sio.instrument(auth=None)
    with pytest.raises(ValueError, match="in use"):
        sio.instrument(auth=None)
    other = siox.Server()
    other.of("/admin").on("x", lambda socket: None)
    with pytest.raises(ValueError, match="in use"):
        other.instrument(auth=None)


async def test_the_admin_ui_leaves_an_earlier_room_watcher_in_place() -> None:
    heard: list[tuple[str, bool]] = []
    sio = siox.Server()
    sio.of("/").local_sockets.rooms.listener = lambda room, sid, joined: heard.append(
        (room, joined)
    )
    sio.instrument(auth=None)

    @sio.on("enter")
    async def enter(socket: siox.Socket) -> None:
        await socket.join("lobby")

    async with TestServer(sio) as server:
        client = await server.connect()
        await client.emit("enter")
        await server.settle()
    assert ("lobby", True) in heard
