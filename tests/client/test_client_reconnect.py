"""Reconnection, the offline buffer, state recovery and retries, against Node and siox."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import siox
from changing import now, until
from client.peers import FAST, TRANSPORTS, NodePeer, SioxPeer

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_server_restart_reconnects_and_delivers_buffered_emits_exactly_once(
    own_peer: NodePeer | SioxPeer, transport: str
) -> None:
    client = siox.Client(own_peer.url, transports=TRANSPORTS[transport], **FAST)
    calls: list[int] = []

    def auth() -> dict[str, Any]:
        calls.append(1)
        return {"n": len(calls)}

    socket = client.socket("/", auth=auth)
    reasons: list[str] = []
    client_events: list[tuple[str, Any]] = []
    socket.on("disconnect", reasons.append)
    client.on("reconnect_attempt", lambda n: client_events.append(("attempt", n)))
    client.on("reconnect", lambda n: client_events.append(("reconnect", n)))
    try:
        await socket.connect(timeout=5)
        await socket.emit_with_ack("record", "before", timeout=5)
        first_id = socket.id

        await own_peer.stop()
        await until(lambda: bool(reasons))
        assert reasons[0] in ("transport close", "transport error")
        assert not now(socket.connected)
        for value in ("b1", "b2", "b3"):
            await socket.emit("record", value)
        await socket.volatile.emit("record", "volatile")
        acked = asyncio.ensure_future(socket.emit_with_ack("echo", "kept", timeout=10))
        await asyncio.sleep(0.3)  # a few failed attempts against the dead port
        await own_peer.start()

        assert await acked == "kept"  # buffered packets keep their acks
        assert socket.connected and socket.id != first_id
        assert not socket.recovered  # a fresh server cannot restore the session
        assert await socket.emit_with_ack("received", timeout=5) == ["b1", "b2", "b3"]
        info = await socket.emit_with_ack("info", timeout=5)
        assert info["auth"]["n"] == len(calls) >= 2  # the auth callable ran again
        assert ("reconnect", client_events[-1][1]) == client_events[-1]
        assert client_events[0] == ("attempt", 1)
    finally:
        await client.close()


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_state_recovery_restores_the_session_and_replays_missed_events(
    recovery_peer: NodePeer | SioxPeer, transport: str
) -> None:
    client = siox.Client(recovery_peer.url, transports=TRANSPORTS[transport], **FAST)
    socket = client.socket("/")
    missed: list[int] = []
    welcomed = asyncio.Event()
    reasons: list[str] = []
    socket.on("missed", missed.append)  # the offset argument is dropped (one parameter)
    socket.on("welcome", lambda data: welcomed.set())
    socket.on("disconnect", reasons.append)
    try:
        await socket.connect(timeout=5)
        await asyncio.wait_for(welcomed.wait(), 5)
        first_id = socket.id
        assert not now(socket.recovered)
        await socket.emit("drop", 3)
        await until(lambda: bool(reasons))
        assert reasons == ["transport close"]
        await until(lambda: socket.connected and len(missed) == 3)
        assert socket.recovered
        assert socket.id == first_id
        assert missed == [0, 1, 2]
        info = await socket.emit_with_ack("info", timeout=5)
        assert info["recovered"] is True
    finally:
        await client.close()


async def test_retries_give_at_least_once_delivery(peer: NodePeer | SioxPeer) -> None:
    client = siox.Client(peer.url, transports=("websocket",), retries=3, ack_timeout=0.3, **FAST)
    socket = client.socket("/")
    tag = f"r{id(client)}"
    try:
        await socket.connect(timeout=5)
        assert await socket.emit_with_ack("flaky", f"{tag}-1") == f"{tag}-1"
        await socket.emit("flaky", f"{tag}-2")  # queued behind nothing, retried too
        assert await socket.emit_with_ack("flaky", f"{tag}-3") == f"{tag}-3"
        received = await socket.emit_with_ack("received")
        assert [v for v in received if str(v).startswith(tag)] == [
            f"{tag}-1",
            f"{tag}-2",
            f"{tag}-3",
        ]
    finally:
        await client.close()


async def test_retries_exhausted_raise_ack_timeout(peer: NodePeer | SioxPeer) -> None:
    client = siox.Client(peer.url, transports=("websocket",), retries=1, ack_timeout=0.1, **FAST)
    socket = client.socket("/")
    sent: list[Any] = []
    socket.on_any_outgoing(lambda *args: sent.append(args))
    try:
        await socket.connect(timeout=5)
        with pytest.raises(siox.AckTimeout):
            await socket.emit_with_ack("nobody-answers", 1)
        assert sent == [("nobody-answers", 1)] * 2  # the first try and one retry
    finally:
        await client.close()


async def test_acks_of_sent_packets_fail_when_the_connection_drops(
    own_peer: NodePeer | SioxPeer,
) -> None:
    client = siox.Client(own_peer.url, transports=("websocket",), reconnection=False, timeout=5)
    socket = client.socket("/")
    try:
        await socket.connect(timeout=5)
        pending = asyncio.ensure_future(socket.emit_with_ack("nobody-answers"))
        await asyncio.sleep(0.05)
        await own_peer.stop()
        with pytest.raises(siox.NotConnected):
            await asyncio.wait_for(pending, 5)
        await until(lambda: not client.connected)
        with pytest.raises(siox.NotConnected):
            await socket.connect(timeout=5)  # reconnection off: one attempt, then an error
    finally:
        await client.close()


async def test_initial_connection_is_retried_until_the_server_appears() -> None:
    peer = SioxPeer()
    await peer.start()
    await peer.stop()  # a port that nobody listens on, for now
    client = siox.Client(peer.url, **FAST)
    socket = client.socket("/")
    errors: list[BaseException] = []
    socket.on("connect_error", errors.append)
    try:
        connecting = asyncio.ensure_future(socket.connect(timeout=10))
        await until(lambda: len(errors) >= 2)
        await peer.start()
        await connecting
        assert socket.connected
        assert all(isinstance(e, siox.NotConnected) for e in errors)
        assert isinstance(errors[0].__cause__, ConnectionRefusedError)
    finally:
        await client.close()
        await peer.stop()


async def test_reconnect_failed_after_the_attempts_and_connect_raises() -> None:
    peer = SioxPeer()
    await peer.start()
    await peer.stop()
    client = siox.Client(peer.url, reconnection_attempts=2, **FAST)
    socket = client.socket("/")
    attempts: list[int] = []
    failed = asyncio.Event()
    client.on("reconnect_attempt", attempts.append)
    client.on("reconnect_failed", failed.set)
    try:
        with pytest.raises(siox.NotConnected, match="after 2 attempt"):
            await socket.connect(timeout=10)
        assert failed.is_set()
        assert attempts == [1, 2]
    finally:
        await client.close()


async def test_connect_timeout_stops_trying() -> None:
    peer = SioxPeer()
    await peer.start()
    await peer.stop()
    client = siox.Client(peer.url, **FAST)
    socket = client.socket("/")
    try:
        with pytest.raises(TimeoutError):
            await socket.connect(timeout=0.3)
        assert not socket.active
        await asyncio.sleep(0.3)
        assert client.engine is None  # no attempt scheduled any more
    finally:
        await client.close()
