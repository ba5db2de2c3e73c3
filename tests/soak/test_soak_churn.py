"""Soak: connect / emit-with-ack / disconnect churn, 80 % WebSocket and 20 % polling clients.

Every ack must come back exactly once with its own value (0 lost, 0 duplicated); after the
warm-up RSS must stay flat, and once the clients are gone the open file descriptors and tasks
must be back where they started. The event loop's lag p99 is reported.

Size (env): SIOX_SOAK_CLIENTS (concurrent clients, 40), SIOX_SOAK_SECONDS (churn duration,
15), SIOX_SOAK_EMITS (max emits per connection, 5). Full size: 10,000 clients, 600 s.
"""

from __future__ import annotations

import asyncio
import gc
import random
from collections import Counter

import siox
from rawpeer import running
from soak.soakkit import (
    Sampler,
    env_int,
    open_fds,
    percentile,
    report,
    settle,
    slope_per_minute,
)

CLIENTS = env_int("SIOX_SOAK_CLIENTS", 40)
SECONDS = env_int("SIOX_SOAK_SECONDS", 15)
EMITS = env_int("SIOX_SOAK_EMITS", 5)


async def test_soak_churn_loses_and_duplicates_no_ack_and_holds_resources_flat() -> None:
    sio = siox.Server(ping_interval=5, ping_timeout=20)
    seen: Counter[tuple[int, int]] = Counter()

    @sio.on("work")
    def work(socket: siox.Socket, slot: int, n: int) -> list[int]:
        seen[(slot, n)] += 1
        return [slot, n]

    sent = acked = wrong = failed = timeouts = connections = 0
    rng = random.Random(14)

    async with running(sio) as port:
        url = f"http://127.0.0.1:{port}"
        gc.collect()
        await asyncio.sleep(0.2)
        fds_before = open_fds()
        tasks_before = len(asyncio.all_tasks())
        sampler = Sampler()
        sampler.start()
        deadline = sampler.started + SECONDS

        async def slot(index: int) -> None:
            nonlocal sent, acked, wrong, failed, timeouts, connections
            transports = ("polling",) if index % 5 == 0 else ("websocket",)
            counter = 0
            loop = asyncio.get_running_loop()
            await asyncio.sleep(rng.random() * 0.5)
            while loop.time() < deadline:
                client = siox.Client(url, transports=transports, reconnection=False)
                try:
                    socket = client.socket("/")
                    await socket.connect()
                    connections += 1
                    for _ in range(rng.randint(1, EMITS)):
                        counter += 1
                        sent += 1
                        try:
                            answer = await socket.emit_with_ack("work", index, counter, timeout=20)
                        except siox.AckTimeout:
                            timeouts += 1
                            continue
                        except siox.NotConnected:  # the connection dropped (ping timeout)
                            failed += 1
                            break
                        if answer == [index, counter]:
                            acked += 1
                        else:
                            wrong += 1
                finally:
                    await client.close()

        await asyncio.gather(*(slot(i) for i in range(CLIENTS)))
        final = await settle(sio, sampler, 50)

    warm = SECONDS * 0.3
    rss = sampler.series("rss_mb", warm)
    dup = sum(1 for count in seen.values() if count > 1)
    figures = {
        "clients": CLIENTS,
        "seconds": SECONDS,
        "connections": connections,
        "emits": sent,
        "acked": acked,
        "lost": sent - acked - wrong,
        "ack_timeouts": timeouts,
        "dropped_connections": failed,
        "wrong": wrong,
        "duplicated": dup,
        "rss_start_mb": round(rss[0][1], 1) if rss else None,
        "rss_end_mb": round(final["rss_mb"], 1),
        "rss_slope_mb_per_min": round(slope_per_minute(rss), 2),
        "fds_before": fds_before,
        "fds_after": int(final["fds"]),
        "tasks_before": tasks_before,
        "tasks_after": int(final["tasks"]),
        "loop_lag_p99_ms": round(percentile(sampler.lags, 0.99) * 1000, 1),
        "loop_lag_max_ms": round(max(sampler.lags, default=0) * 1000, 1),
    }
    report("soak_churn", figures)
    assert failed == 0 and timeouts == 0 and wrong == 0 and dup == 0, figures
    assert acked == sent and sent > 0, figures
    assert connections >= CLIENTS
    assert final["fds"] <= fds_before + 3, figures
    assert final["tasks"] <= tasks_before + 2, figures
    # Flat after warm-up: generous bounds for a short run on a shared machine.
    assert final["rss_mb"] - rss[0][1] < 30, figures
