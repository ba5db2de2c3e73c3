"""The client's cap on pending acks (`max_pending_acks`), against npm socket.io 4.8 and siox."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import siox
from client.peers import FAST
from siox.errors import CapExceeded
from siox.options import DEFAULT_CAPS

pytestmark = pytest.mark.timeout(20)


async def settle(condition: Any) -> None:
    """Let the loop run until ``condition()`` holds (bounded: 200 turns)."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


def test_max_pending_acks_defaults_to_the_servers_cap_and_refuses_nonsense() -> None:
    client = siox.Client("http://127.0.0.1:1")
    assert client.options.max_pending_acks == DEFAULT_CAPS.max_pending_acks
    assert siox.Client("http://127.0.0.1:1", max_pending_acks=5).options.max_pending_acks == 5
    with pytest.raises(ValueError, match="max_pending_acks"):
        siox.Client("http://127.0.0.1:1", max_pending_acks=0)


async def test_emit_with_ack_past_max_pending_acks_raises_cap_exceeded_and_sends_nothing(
    peer: Any,
) -> None:
    client = siox.Client(peer.url, transports=("websocket",), max_pending_acks=3, **FAST)
    socket = client.socket("/")
    outgoing: list[Any] = []
    socket.on_any_outgoing(lambda *args: outgoing.append(args))
    waiting: list[asyncio.Task[Any]] = []
    try:
        await socket.connect(timeout=5)
        waiting = [
            asyncio.ensure_future(socket.emit_with_ack("nobody-answers", n)) for n in range(3)
        ]
        await settle(lambda: socket.pending_acks == 3)
        with pytest.raises(CapExceeded, match="max_pending_acks"):
            await socket.emit_with_ack("echo", "over the cap")
        with pytest.raises(CapExceeded):
            await socket.timeout(5).emit_with_ack("echo", "over the cap")
        assert socket.pending_acks == 3
        assert [args for args in outgoing if args[0] == "echo"] == []  # nothing went out
        await socket.emit("echo", "no ack asked: not capped")
        # A caller that stops waiting frees its place: nothing is kept for it.
        waiting[0].cancel()
        await settle(lambda: socket.pending_acks == 2)
        assert await socket.emit_with_ack("echo", "fits again", timeout=5) == "fits again"
        assert socket.pending_acks == 2
    finally:
        await client.close()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert all(isinstance(result, siox.NotConnected) for result in results[1:])
    assert socket.pending_acks == 0


async def test_emits_queued_for_retries_count_against_max_pending_acks(peer: Any) -> None:
    client = siox.Client(
        peer.url, transports=("websocket",), max_pending_acks=2, retries=1, ack_timeout=5, **FAST
    )
    socket = client.socket("/")
    waiting: list[asyncio.Task[Any]] = []
    try:
        await socket.connect(timeout=5)
        waiting = [
            asyncio.ensure_future(socket.emit_with_ack("nobody-answers", n)) for n in range(2)
        ]
        await settle(lambda: socket.pending_acks == 2)  # one in flight, one queued behind it
        with pytest.raises(CapExceeded):
            await socket.emit_with_ack("echo", 1)
        waiting[1].cancel()  # the queued one: dropped, its place freed
        await settle(lambda: socket.pending_acks == 1)
        waiting[0].cancel()  # the one in flight: its try ends as it would, nobody waits
        await settle(lambda: socket.pending_acks == 0)
    finally:
        await client.close()
        for task in waiting:  # queued emits wait for a reconnection, as socket.io-client's do
            task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
