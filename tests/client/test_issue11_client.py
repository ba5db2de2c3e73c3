"""Issue 11 on the client: a failing connection is loud (9), ``auth`` with ``protocol=4`` (2),
a second connect with another ``auth`` (12), and the everyday API (``once``/``off``/
``listeners``/``off_any``/``off_any_outgoing``, ``send``, ``timeout(s)``), against siox servers
served on a free port.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import siox

FAST: dict[str, Any] = {"reconnection_delay": 0.05, "reconnection_delay_max": 0.05, "timeout": 5.0}


def _closed_port_url() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


async def test_item9_connect_to_a_closed_port_raises_not_connected_with_the_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="siox.client")
    with pytest.raises(siox.NotConnected) as raised:
        async with asyncio.timeout(10):
            await siox.connect(_closed_port_url(), **FAST)
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ConnectionRefusedError" in warnings[0]


async def test_item9_each_failed_attempt_emits_connect_error_and_logs_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="siox.client")
    client = siox.Client(_closed_port_url(), **FAST)
    socket = client.socket("/")
    errors: list[BaseException] = []
    socket.on("connect_error", errors.append)
    with pytest.raises(TimeoutError):
        await socket.connect(timeout=1.0)  # retry=True: keeps trying until the timeout
    await client.close()
    assert len(errors) >= 3
    assert all(isinstance(e.__cause__, ConnectionRefusedError) for e in errors)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(errors)
    assert "reconnection attempt" in warnings[-1]


async def test_item9_timeout_bounds_each_attempt_against_a_silent_server() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    started = time.monotonic()
    try:
        with pytest.raises(siox.NotConnected, match="timeout"):
            await siox.connect(f"http://127.0.0.1:{port}", timeout=0.3)
    finally:
        server.close()
    assert time.monotonic() - started < 3.0


async def test_item9_connect_with_retry_waits_for_reconnection() -> None:
    with pytest.raises(TimeoutError):
        await siox.connect(_closed_port_url(), retry=True, wait_timeout=0.5, **FAST)


def test_item9_sync_client_connect_raises_not_connected_with_the_cause() -> None:
    with siox.SyncClient(_closed_port_url(), **FAST) as client:
        with pytest.raises(siox.NotConnected) as raised:
            client.connect()
        assert isinstance(raised.value.__cause__, ConnectionRefusedError)


@pytest.fixture
async def served() -> AsyncIterator[tuple[siox.Server, str]]:
    sio = siox.Server(allow_eio3=True)
    async with siox.serve(sio, port=0, shutdown_timeout=0.5) as serving:
        yield sio, f"http://127.0.0.1:{serving.port}"


async def test_item2_protocol_4_auth_reaches_the_server_as_auth(
    served: tuple[siox.Server, str],
) -> None:
    sio, url = served
    admin = sio.of("/admin")
    seen: list[dict[str, Any]] = []

    @admin.use
    def check(socket: siox.Socket, auth: dict[str, Any]) -> None:
        seen.append(auth)
        if auth.get("token") != "secret":
            raise siox.ConnectionRefused("not authorized")

    admin.on("connect", lambda socket, auth: seen.append(auth))
    client = siox.Client(url, protocol=4, reconnection=False, timeout=5.0)
    try:
        await client.socket("/admin", auth={"token": "secret"}).connect(timeout=5.0)
        with pytest.raises(siox.ConnectionRefused):
            await client.socket("/other", auth={"token": "x"}).connect(timeout=5.0)
    finally:
        await client.close()
    assert seen == [{"token": "secret"}, {"token": "secret"}]


async def test_item2_protocol_4_auth_on_the_main_namespace_is_refused_pointing_to_query(
    served: tuple[siox.Server, str],
) -> None:
    sio, url = served
    queries: list[str | None] = []
    sio.on("connect", lambda socket: queries.append(socket.handshake.query.get("token")))
    client = siox.Client(url, protocol=4, reconnection=False, timeout=5.0)
    try:
        with pytest.raises(ValueError, match="query="):
            await client.socket("/", auth={"token": "secret"}).connect(timeout=5.0)
    finally:
        await client.close()
    client = siox.Client(url, protocol=4, reconnection=False, query={"token": "secret"})
    try:
        await client.socket("/").connect(timeout=5.0)
    finally:
        await client.close()
    assert queries == ["secret"]


async def test_item12_a_second_connect_with_another_auth_is_refused(
    served: tuple[siox.Server, str],
) -> None:
    sio, url = served
    messages: list[Any] = []
    sio.on("message", lambda socket, text: messages.append(text))

    def scenario() -> None:
        with siox.SyncClient(url, **FAST) as client:
            client.connect("/", auth={"token": "a"}, timeout=5.0)
            client.connect("/", auth={"token": "a"}, timeout=5.0)  # the same: fine
            with pytest.raises(ValueError, match="another auth"):
                client.connect("/", auth={"token": "b"}, timeout=5.0)
            socket = client.socket("/")
            socket.once("news", print)
            assert socket.listeners("news") == [print]
            socket.off("news")
            assert socket.listeners("news") == []
            socket.off_any()
            socket.off_any_outgoing()
            socket.send("over the blocking facade")

    await asyncio.to_thread(scenario)
    assert messages == ["over the blocking facade"]


async def test_client_once_off_listeners_and_catch_alls(served: tuple[siox.Server, str]) -> None:
    sio, url = served
    calls: list[Any] = []

    @sio.on("send-twice")
    async def send_twice(socket: siox.Socket) -> None:
        await socket.emit("news", 1)
        await socket.emit("news", 2)

    async with siox.connect(url, **FAST) as socket:

        def news(value: int) -> None:
            calls.append(("news", value))

        def anything(event: str, *args: Any) -> None:
            calls.append(("any", event))

        def outgoing(event: str, *args: Any) -> None:
            calls.append(("out", event))

        socket.once("news", news)
        socket.on_any(anything)
        socket.on_any_outgoing(outgoing)
        assert socket.listeners("news") == [news]
        assert socket.listeners_any() == [anything]
        await socket.emit("send-twice")
        await socket.wait_for("news")
        await socket.wait_for("news")
        assert socket.listeners("news") == []
        socket.on("news", news)
        socket.off("news", outgoing)  # another function: kept
        assert socket.listeners("news") == [news]
        socket.off("news")
        socket.off_any(anything)
        socket.off_any_outgoing()
        assert socket.listeners_any() == socket.listeners_any_outgoing() == []
        await socket.emit("send-twice")
        await socket.wait_for("news")
    assert calls == [("out", "send-twice"), ("any", "news"), ("news", 1), ("any", "news")]


async def test_client_send_and_timeout_emit_with_ack(served: tuple[siox.Server, str]) -> None:
    sio, url = served
    messages: list[Any] = []
    sio.on("message", lambda socket, *args: messages.append(args))
    sio.on("slow", lambda socket: None)  # answers with no value; "never" has no handler

    async with siox.connect(url, **FAST) as socket:
        await socket.send("hi", 2)
        assert await socket.timeout(5.0).emit_with_ack("slow") is None
        with pytest.raises(siox.AckTimeout):
            await socket.timeout(0.1).emit_with_ack("never")
    assert messages == [("hi", 2)]
