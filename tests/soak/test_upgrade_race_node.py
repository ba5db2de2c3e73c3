"""The upgrade race with an out-of-process load: Node clients upgrade while numbers flow.

As test_upgrade_race.py, with the clients in Node processes (tests/soak/loadgen.js): they
connect over long-polling (spread over the first half of the run) and upgrade to WebSocket
while the server broadcasts a numbered "n" packet every millisecond (1 kHz) and each client
sends its own numbered "up" packets every 10 ms. When every client is on WebSocket the server
broadcasts "stop"(last); each client then reports its count with "done". Each side must see
every number once and in order (0 lost, duplicated or reordered, both ways).

Size (env): SIOX_UPGRADE_NODE_CLIENTS (100), SIOX_UPGRADE_NODE_SECONDS (4),
SIOX_UPGRADE_NODE_HZ (the broadcast rate, 1000), SIOX_UPGRADE_NODE_UP_MS (ms between a client's
"up" packets, 10). Full size: 1,000 clients at 1 kHz (a million
deliveries a second: more than one Python process sends, so the ticker falls behind and sends
in bursts; a lower rate checks the same ordering with the server keeping up).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import defaultdict

import siox
from rawpeer import running
from soak.loadgen import LoadGen, need_node
from soak.soakkit import Sampler, env_float, env_int, numbered_ticker, percentile, report

CLIENTS = env_int("SIOX_UPGRADE_NODE_CLIENTS", 100)
SECONDS = env_float("SIOX_UPGRADE_NODE_SECONDS", 4.0)
RATE_HZ = env_int("SIOX_UPGRADE_NODE_HZ", 1000)
UP_MS = env_int("SIOX_UPGRADE_NODE_UP_MS", 10)


def _broken(sequence: list[int]) -> int:
    """How many steps of ``sequence`` are not +1 (gaps, duplicates, reorders)."""
    return sum(1 for a, b in itertools.pairwise(sequence) if b != a + 1)


async def test_node_upgrade_race_loses_duplicates_and_reorders_nothing_both_ways() -> None:
    need_node()
    sio = siox.Server(ping_timeout=60)
    upstream: defaultdict[int, list[int]] = defaultdict(list)
    done: dict[int, tuple[int, str]] = {}
    sockets: set[siox.Socket] = set()

    @sio.on("connect")
    def connect(socket: siox.Socket) -> None:
        sockets.add(socket)

    @sio.on("up")
    def up(socket: siox.Socket, client: int, n: int) -> None:
        upstream[client].append(n)

    @sio.on("done")
    def finished(socket: siox.Socket, client: int, count: int, transport: str) -> bool:
        done[client] = (count, transport)
        return True

    async with running(sio) as port:
        sampler = Sampler()
        sampler.start()
        stop = asyncio.Event()

        async with LoadGen("upgrade", f"http://127.0.0.1:{port}", CLIENTS, SECONDS, UP_MS) as load:
            tick = asyncio.create_task(numbered_ticker(sio, RATE_HZ, stop))
            await asyncio.sleep(SECONDS)
            upgraded_at = None
            for _ in range(1200):  # on a loaded machine some upgrades end late: keep emitting
                if len(sockets) == CLIENTS and all(s.transport == "websocket" for s in sockets):
                    upgraded_at = sampler.now()
                    break
                await asyncio.sleep(0.05)
            stop.set()
            emitted = await tick
            await sio.emit("stop", emitted)
            figures = await load.result(timeout=120 + CLIENTS / 10)
        await sampler.stop()

    up_broken = sum(_broken(seq) for seq in upstream.values())
    up_lost = sum(count - len(upstream[client]) for client, (count, _) in done.items())
    figures["connected"] = figures.pop("clients")
    figures.update(
        {
            "clients": CLIENTS,
            "seconds": SECONDS,
            "rate_hz": RATE_HZ,
            "up_ms": UP_MS,
            "emitted": emitted,
            "all_upgraded_at_s": upgraded_at and round(upgraded_at, 1),
            "up_received": sum(len(s) for s in upstream.values()),
            "up_lost": up_lost,
            "up_broken_steps": up_broken,
            "reported_done": len(done),
            "loop_lag_p99_ms": round(percentile(sampler.lags, 0.99) * 1000, 1),
            "load_avg": os.getloadavg(),
        }
    )
    report("upgrade_race_node", figures)
    assert figures["connected"] == CLIENTS and figures["connect_errors"] == 0, figures
    assert figures["upgraded"] == CLIENTS and len(done) == CLIENTS, figures
    assert figures["down_broken_steps"] == 0 and figures["tail_missing"] == 0, figures
    assert up_broken == 0 and up_lost == 0 and figures["sent_up"] == figures["up_received"]
    assert figures["last"] == emitted, figures
