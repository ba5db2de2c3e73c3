"""A hostile or broken server ends in a clean disconnect and a clear error, never a hang.

Rows K01, K04, K05, K07 and K08 of hostile-inputs.md (K03, TLS, is in test_client_options.py),
plus a server that stops pinging.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

import siox
from changing import until
from client.hostile import FakeServer, Script, many_fragments, ws_frame_header
from client.peers import TRANSPORTS, SioxPeer

pytestmark = pytest.mark.timeout(20)

POLLING_AND_WS = pytest.mark.parametrize("transport", ["polling", "websocket"])


@pytest_asyncio.fixture
async def servers() -> AsyncIterator[list[FakeServer]]:
    started: list[FakeServer] = []
    yield started
    for server in started:
        await server.stop()


async def start(servers: list[FakeServer], script: Script, port: int = 0) -> FakeServer:
    server = await FakeServer(script, port).start()
    servers.append(server)
    return server


class Recorder:
    """Records a socket's local events."""

    def __init__(self, socket: siox.ClientSocket) -> None:
        self.connects = 0
        self.disconnects: list[tuple[str, str | None]] = []
        self.errors: list[BaseException] = []
        self.events: list[tuple[Any, ...]] = []
        socket.on("connect", self._connect)
        socket.on("disconnect", lambda r, d: self.disconnects.append((r, d)))
        socket.on("connect_error", self.errors.append)
        socket.on_any(lambda *args: self.events.append(args))

    def _connect(self) -> None:
        self.connects += 1


@POLLING_AND_WS
async def test_k01_attachment_bomb_is_rejected_and_disconnects(
    servers: list[FakeServer], transport: str
) -> None:
    bomb = '51000000-["evil",{"_placeholder":true,"num":0}]'  # "4" + this on the wire
    server = await start(servers, Script(after_connect=[bomb]))
    client = siox.Client(server.url, transports=TRANSPORTS[transport], reconnection=False)
    socket = client.socket("/")
    record = Recorder(socket)
    try:
        await socket.connect(timeout=5)
        await until(lambda: bool(record.disconnects))
        reason, description = record.disconnects[0]
        assert reason == "parse error"
        assert description is not None and "attachment" in description
        assert record.events == []
        assert not socket.connected and not client.connected
    finally:
        await client.close()


@POLLING_AND_WS
async def test_k04_redirects_are_not_followed(servers: list[FakeServer], transport: str) -> None:
    target = await start(servers, Script())
    location = f"{target.url}/socket.io/?EIO=4&transport={transport}"
    redirecting = await start(servers, Script(mode="redirect", location=location))
    client = siox.Client(
        redirecting.url,
        transports=TRANSPORTS[transport],
        reconnection=False,
        headers={"Authorization": "Bearer secret"},
    )
    socket = client.socket("/")
    record = Recorder(socket)
    try:
        with pytest.raises(siox.HandshakeError, match="redirect") as info:
            await socket.connect(timeout=5)
        assert info.value.http_status == 302
        assert location in str(info.value)
        assert record.errors == [info.value]
        assert len(redirecting.requests) == 1
        assert target.requests == []  # nothing, credentials included, went to the target
    finally:
        await client.close()


async def test_k05_silent_server_times_out_backs_off_and_reconnects_after_restart(
    servers: list[FakeServer],
) -> None:
    blackhole = await start(servers, Script(mode="blackhole"))
    port = blackhole.port
    client = siox.Client(
        blackhole.url,
        timeout=0.2,
        reconnection_delay=0.05,
        reconnection_delay_max=0.15,
        randomization_factor=0.5,
    )
    socket = client.socket("/")
    record = Recorder(socket)
    attempts: list[float] = []
    loop = asyncio.get_running_loop()
    client.on("reconnect_attempt", lambda n: attempts.append(loop.time()))
    try:
        connecting = asyncio.ensure_future(socket.connect(timeout=10))
        await until(lambda: len(record.errors) >= 4)
        assert all("handshake timeout" in str(e) for e in record.errors)
        gaps = [b - a for a, b in itertools.pairwise(attempts)]
        # each gap is the 0.2 s handshake timeout plus a delay capped at 0.15 s (+ slack)
        assert all(0.2 <= gap < 0.2 + 0.15 + 0.6 for gap in gaps), gaps
        await blackhole.stop()
        peer = SioxPeer()
        peer.port = port
        await peer.start()  # the server comes back on the same port
        try:
            await connecting
            assert socket.connected
            assert await socket.emit_with_ack("echo", "back", timeout=5) == "back"
        finally:
            await client.close()
            await peer.stop()
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (ws_frame_header(0x1, 200_000_000), "a 200 MB message header"),
        (many_fragments(2000), "2000 fragments"),
    ],
)
async def test_k07_websocket_limits_close_with_1009(
    servers: list[FakeServer], raw: bytes, what: str
) -> None:
    server = await start(servers, Script(raw_after_connect=raw))
    client = siox.Client(server.url, transports=("websocket",), reconnection=False)
    socket = client.socket("/")
    record = Recorder(socket)
    try:
        await socket.connect(timeout=5)
        await until(lambda: bool(record.disconnects) and bool(server.ws_close_codes))
        reason, description = record.disconnects[0]
        assert reason == "transport error", what
        assert description is not None and "1009" in description
        assert server.ws_close_codes == [1009]
    finally:
        await client.close()


async def test_k07_max_payload_is_enforced_on_polling_too(servers: list[FakeServer]) -> None:
    server = await start(servers, Script(after_connect=['2["big","' + "x" * 5000 + '"]']))
    client = siox.Client(server.url, transports=("polling",), reconnection=False, max_payload=2000)
    socket = client.socket("/")
    record = Recorder(socket)
    try:
        await socket.connect(timeout=5)
        await until(lambda: bool(record.disconnects))
        assert record.disconnects[0][0] == "transport error"
        assert record.events == []
    finally:
        await client.close()


@POLLING_AND_WS
@pytest.mark.parametrize("name", ["connect", "disconnect"])
async def test_k08_reserved_event_names_are_rejected(
    servers: list[FakeServer], transport: str, name: str
) -> None:
    server = await start(servers, Script(after_connect=[f'2["{name}"]', '2["after"]']))
    client = siox.Client(server.url, transports=TRANSPORTS[transport], reconnection=False)
    socket = client.socket("/")
    record = Recorder(socket)
    try:
        await socket.connect(timeout=5)
        await until(lambda: bool(record.disconnects))
        assert record.connects == 1  # the bogus "connect" did not run the handler again
        assert record.disconnects == [("parse error", record.disconnects[0][1])]
        assert "invalid payload" in str(record.disconnects[0][1])
        assert record.events == []
        assert not socket.connected and socket.id is None
    finally:
        await client.close()


async def test_k08_protocol_4_drops_reserved_names_and_stays_connected(
    servers: list[FakeServer],
) -> None:
    server = await start(servers, Script(eio=3, after_connect=['2["connect"]', '2["hello",1]']))
    client = siox.Client(server.url, transports=("websocket",), protocol=4, reconnection=False)
    socket = client.socket("/")
    record = Recorder(socket)
    try:
        await socket.connect(timeout=5)
        await until(lambda: bool(record.events))
        assert record.events == [("hello", 1)]
        assert record.connects == 1
        assert socket.connected
    finally:
        await client.close()


@POLLING_AND_WS
async def test_server_that_stops_pinging_gives_ping_timeout(
    servers: list[FakeServer], transport: str
) -> None:
    server = await start(servers, Script(ping_interval=100, ping_timeout=100))
    client = siox.Client(server.url, transports=TRANSPORTS[transport], reconnection=False)
    socket = client.socket("/")
    record = Recorder(socket)
    try:
        await socket.connect(timeout=5)
        started = asyncio.get_running_loop().time()
        await until(lambda: bool(record.disconnects), timeout=2)
        assert record.disconnects[0][0] == "ping timeout"
        assert asyncio.get_running_loop().time() - started < 1.5  # 0.2 s, plus slack
    finally:
        await client.close()


async def test_server_without_connect_reply_times_out(servers: list[FakeServer]) -> None:
    server = await start(servers, Script())
    server._on_message = lambda data: []  # type: ignore[method-assign]
    client = siox.Client(server.url, transports=("websocket",), reconnection=False, timeout=0.3)
    socket = client.socket("/")
    record = Recorder(socket)
    try:
        with pytest.raises(siox.NotConnected, match="no answer to CONNECT"):
            await socket.connect(timeout=5)
        assert record.errors
    finally:
        await client.close()
