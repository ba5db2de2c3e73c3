"""Resource rows of hostile-inputs.md, scaled down to seconds: R01, R02, R05, R06, R07."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

import siox
from rawpeer import RawWebSocket, eio_url, http, open_polling, running, ws_connect_sio

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


async def gather_limited(count: int, limit: int, make: Callable[[int], Awaitable[T]]) -> list[T]:
    semaphore = asyncio.Semaphore(limit)

    async def one(i: int) -> T:
        async with semaphore:
            return await make(i)

    return await asyncio.gather(*(one(i) for i in range(count)))


async def test_r01_handshakes_that_never_poll_again_are_all_reaped() -> None:
    sio = siox.Server(ping_interval=0.3, ping_timeout=0.3)
    async with running(sio) as port:
        opened = await gather_limited(1000, 50, lambda i: open_polling(port))
        assert len({sid for sid, _ in opened}) == 1000
        assert sio.engine.sessions  # the latest are still alive...
        await asyncio.sleep(1.0)  # ...and gone after interval + timeout, plus margin
        assert len(sio.engine.sessions) == 0
        assert len(sio.connections) == 0


async def test_r02_connect_disconnect_churn_leaves_nothing_behind() -> None:
    sio = siox.Server()

    @sio.on("join")
    async def join(socket: siox.Socket) -> None:
        await socket.join("room")

    async with running(sio) as port:
        tasks_before = len(asyncio.all_tasks())

        async def ws_cycle(i: int) -> None:
            peer, _ = await ws_connect_sio(port)
            await peer.send('42["join"]')
            await peer.send("41")
            await peer.close()

        async def polling_cycle(i: int) -> None:
            sid, _ = await open_polling(port)
            await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b"40")
            await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
            await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b"1")

        await gather_limited(300, 30, ws_cycle)
        await gather_limited(100, 20, polling_cycle)
        await asyncio.sleep(0.5)
        namespace = sio.of("/")
        assert sio.engine.sessions == {}
        assert sio.connections == {}
        assert namespace.sockets == {}
        assert namespace.adapter.local.rooms.rooms() == {}
        assert namespace.adapter.local.rooms.sids() == frozenset()
        assert len(asyncio.all_tasks()) <= tasks_before + 1


async def test_r05_a_stalled_polling_client_is_dropped_as_a_slow_consumer_and_others_are_unaffected() -> (
    None
):
    sio = siox.Server(max_buffer_size=200_000)
    reasons: list[str] = []

    @sio.on("disconnect")
    def disconnect(socket: siox.Socket, reason: str) -> None:
        reasons.append(reason)

    async with running(sio) as port:
        sid, _ = await open_polling(port)
        await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b"40")
        await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
        healthy, _ = await ws_connect_sio(port)
        chunk = "x" * 10_000
        for _ in range(100):  # 1 MB at a client that never polls
            await sio.emit("data", chunk)
            await asyncio.sleep(0)
        await asyncio.sleep(0.1)
        assert reasons == ["slow consumer"]
        assert len(sio.connections) == 1
        received = 0
        while received < 100:
            message = await healthy.recv()
            if isinstance(message, str) and message.startswith('42["data"'):
                received += 1
        assert received == 100


async def test_r07_handshake_flood_does_not_starve_existing_heartbeats() -> None:
    # The flood runs in this process's loop too, so the loop itself lags under it; the timeout
    # leaves room for that lag while the interval still makes several pings happen.
    sio = siox.Server(ping_interval=0.2, ping_timeout=1.5)
    reasons: list[str] = []

    @sio.on("disconnect")
    def disconnect(socket: siox.Socket, reason: str) -> None:
        reasons.append(reason)

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        stop = asyncio.Event()

        async def answer_pings() -> int:
            pings = 0
            while not stop.is_set():
                try:
                    message = await peer.recv(timeout=0.1)
                except TimeoutError:
                    continue
                if message == "2":
                    pings += 1
                    await peer.send("3")
            return pings

        answering = asyncio.create_task(answer_pings())
        await gather_limited(1000, 50, lambda i: open_polling(port))
        stop.set()
        assert await answering >= 2
        assert reasons == []


@pytest.mark.slow
def test_r06_idle_websocket_connections_cost_little_memory() -> None:
    """1000 idle connections against a server in its own process; RSS growth per connection."""
    script = "import sys, siox\nsio = siox.Server()\nsiox.run(sio, port=int(sys.argv[1]))\n"
    import socket as socket_module

    with socket_module.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    server = subprocess.Popen([sys.executable, "-c", script, str(port)], env=env)
    try:
        per_connection = asyncio.run(_measure_idle(port, server.pid, 1000))
    finally:
        server.terminate()
        server.wait(20)  # a polling session waits for a GET to carry its close
    print(f"R06: {per_connection / 1024:.1f} KiB per idle connection")
    assert per_connection < 40 * 1024


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def _measure_idle(port: int, pid: int, count: int) -> float:
    for _ in range(100):
        try:
            await open_polling(port)
            break
        except OSError:
            await asyncio.sleep(0.05)
    peers: list[RawWebSocket] = []
    warm = [await ws_connect_sio(port) for _ in range(50)]
    await asyncio.sleep(0.3)
    before = _rss(pid)
    peers = [p for p, _ in await gather_limited(count, 100, lambda i: ws_connect_sio(port))]
    await asyncio.sleep(0.5)
    gc.collect()
    after = _rss(pid)
    for peer in peers + [p for p, _ in warm]:
        peer.writer.close()
    return (after - before) / count
