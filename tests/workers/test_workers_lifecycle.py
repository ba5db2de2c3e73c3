"""The supervisor's lifecycle with real processes: a killed worker is replaced, SIGTERM drains,
SIGHUP rolls the workers over with at most one reconnect per client."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import siox
from workers.procs import WorkersServer, alive

pytestmark = pytest.mark.timeout(60)


class Watched:
    """A polling client that counts its connects and disconnects."""

    def __init__(self, url: str) -> None:
        self.client = siox.Client(
            url, transports=["polling"], reconnection_delay=0.05, reconnection_delay_max=0.2
        )
        self.socket = self.client.socket("/")
        self.connects = 0
        self.disconnects: list[str] = []
        self.socket.on("connect", self._connected)
        self.socket.on("disconnect", self._disconnected)

    def _connected(self) -> None:
        self.connects += 1

    def _disconnected(self, reason: str, *details: Any) -> None:
        self.disconnects.append(reason)

    async def slot(self) -> int:
        me: dict[str, Any] = await self.socket.emit_with_ack("whoami", timeout=5)
        return int(me["slot"])


@asynccontextmanager
async def one_per_slot(server: WorkersServer, per_slot: int = 1) -> AsyncIterator[list[Watched]]:
    """Clients connected to each worker (``per_slot`` each), in slot order; closed after."""
    kept: dict[int, list[Watched]] = {0: [], 1: []}
    spare: list[Watched] = []
    try:
        for _ in range(60):
            if all(len(found) >= per_slot for found in kept.values()):
                break
            watched = Watched(server.url)
            await watched.socket.connect(timeout=5)
            found = kept[await watched.slot()]
            (found if len(found) < per_slot else spare).append(watched)
        assert all(len(found) >= per_slot for found in kept.values())
        for extra in spare:
            await extra.client.close()
        yield [*kept[0], *kept[1]]
    finally:
        for watched in [*kept[0], *kept[1], *spare]:
            await watched.client.close()


async def until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_killed_worker_is_replaced_its_clients_reconnect_the_others_see_nothing(
    own_server: WorkersServer,
) -> None:
    server = own_server
    stats = await server.wait_workers()
    async with one_per_slot(server) as (calm, victim_client):
        victim = stats[1]["pid"]
        os.kill(victim, signal.SIGKILL)
        # the other worker's client goes on as if nothing happened
        for number in range(40):
            assert await calm.socket.emit_with_ack("echo", number, timeout=5) == number
            await asyncio.sleep(0.02)
        replaced = await server.wait_workers(exclude=frozenset({victim}))
        assert replaced[0]["pid"] == stats[0]["pid"] and replaced[1]["pid"] != victim
        await until(lambda: victim_client.connects == 2 and victim_client.socket.connected)
        assert await victim_client.socket.emit_with_ack("echo", "back", timeout=5) == "back"
        assert calm.disconnects == [] and calm.connects == 1
        assert len(victim_client.disconnects) == 1


async def test_sigterm_drains_every_worker_and_the_supervisor_exits_cleanly(
    own_server: WorkersServer,
) -> None:
    stats = await own_server.wait_workers()
    async with one_per_slot(own_server) as clients:
        started = time.monotonic()
        own_server.signal(signal.SIGTERM)
        assert await asyncio.to_thread(own_server.wait_exit) == 0
        assert time.monotonic() - started < 5
        assert not any(alive(item["pid"]) for item in stats)
        await until(lambda: all(c.disconnects for c in clients), 5)
        # told to go ("server shutting down" closes the session): not a dropped connection
        assert [c.disconnects[0] for c in clients] == ["transport close"] * 2, clients
    assert "Traceback" not in own_server.output()


async def test_sighup_replaces_the_workers_each_client_reconnects_at_most_once(
    own_server: WorkersServer,
) -> None:
    stats = await own_server.wait_workers()
    old = frozenset(item["pid"] for item in stats)
    async with one_per_slot(own_server, per_slot=2) as clients:
        own_server.signal(signal.SIGHUP)
        fresh = await own_server.wait_workers(exclude=old)
        assert {item["index"] for item in fresh} == {2, 3}  # the other bank of indexes
        await until(lambda: not any(alive(pid) for pid in old))
        await until(lambda: all(c.socket.connected for c in clients))
        assert all(len(c.disconnects) == 1 for c in clients), [c.disconnects for c in clients]
        for watched in clients:
            assert await watched.socket.emit_with_ack("echo", 1, timeout=5) == 1
            assert await watched.slot() in (0, 1)
    assert own_server.process is not None and own_server.process.poll() is None
