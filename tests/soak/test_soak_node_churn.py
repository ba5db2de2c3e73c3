"""Soak with an out-of-process load: Node socket.io-client churn against a siox server.

The same churn as test_soak_churn.py (connect / emit-with-ack / disconnect, 80 % WebSocket,
20 % polling), but the clients run in Node processes (tests/soak/loadgen.js), so this test's
event loop is the server's alone and the size can reach 10,000 clients. Every ack must come
back once with its own value (0 lost, wrong or duplicated); after the warm-up the server's RSS
must stay flat, and once the clients are gone its fds and tasks must be back at their start.

Size (env): SIOX_SOAK_NODE_CLIENTS (150), SIOX_SOAK_NODE_SECONDS (8), SIOX_SOAK_EMITS (5),
SIOX_SOAK_THINK_MS (a client's longest pause before each emit, 0), SIOX_LOADGEN_PROCS (one per
5,000 clients). Full size: 10,000 clients, 600 s (with no pause that is ~10,000 connections
in flight at once: more than one Python process on a share of a core answers within the
clients' 30 s connect timeout; a pause keeps 10,000 connected at a rate the server can serve).
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource

import siox
from rawpeer import running
from soak.loadgen import LoadGen, need_node
from soak.soakkit import (
    Sampler,
    env_int,
    open_fds,
    percentile,
    report,
    settle,
    slope_per_minute,
)

CLIENTS = env_int("SIOX_SOAK_NODE_CLIENTS", 150)
SECONDS = env_int("SIOX_SOAK_NODE_SECONDS", 8)
EMITS = env_int("SIOX_SOAK_EMITS", 5)
THINK_MS = env_int("SIOX_SOAK_THINK_MS", 0)


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


async def test_node_churn_loses_and_duplicates_no_ack_and_holds_server_resources_flat() -> None:
    need_node()
    _raise_fd_limit(CLIENTS * 2 + 1000)
    sio = siox.Server(ping_interval=25, ping_timeout=60)
    # Each slot sends 1, 2, 3, ... one at a time (the next after the last one's ack), so a
    # number not above the slot's last is a duplicate (kept to one int per slot: a 10-minute
    # run handles ~10^6 events, and the server's RSS is what is measured).
    last: dict[int, int] = {}
    handled = dup = 0

    @sio.on("work")
    def work(socket: siox.Socket, slot: int, n: int) -> list[int]:
        nonlocal handled, dup
        handled += 1
        if n <= last.get(slot, 0):
            dup += 1
        last[slot] = n
        return [slot, n]

    async with running(sio) as port:
        gc.collect()
        await asyncio.sleep(0.2)
        fds_before = open_fds()
        tasks_before = len(asyncio.all_tasks())
        sampler = Sampler(period=max(0.5, SECONDS / 200))
        sampler.start()
        load = LoadGen(
            "churn", f"http://127.0.0.1:{port}", CLIENTS, SECONDS, EMITS, think_ms=THINK_MS
        )
        async with load:
            peak = 0
            while not load.finished() and sampler.now() < SECONDS + 120:
                peak = max(peak, len(sio.connections))
                await asyncio.sleep(0.5)
            figures = await load.result(timeout=30)
        final = await settle(sio, sampler, 100)
        cpu = os.times()

    warm = SECONDS * 0.3
    rss = sampler.series("rss_mb", warm)
    figures.update(
        {
            "clients": CLIENTS,
            "seconds": SECONDS,
            "think_ms": THINK_MS,
            "peak_connections": peak,
            "handled": handled,
            "lost": figures["emits"] - figures["acked"] - figures["wrong"],
            "duplicated": dup,
            "rss_start_mb": round(rss[0][1], 1) if rss else None,
            "rss_max_mb": round(max(v for _, v in rss), 1) if rss else None,
            "rss_end_mb": round(final["rss_mb"], 1),
            "rss_slope_mb_per_min": round(slope_per_minute(rss), 2),
            "fds_before": fds_before,
            "fds_max": int(max(s["fds"] for s in sampler.samples)),
            "fds_after": int(final["fds"]),
            "tasks_before": tasks_before,
            "tasks_max": int(max(s["tasks"] for s in sampler.samples)),
            "tasks_after": int(final["tasks"]),
            "loop_lag_p99_ms": round(percentile(sampler.lags, 0.99) * 1000, 1),
            "loop_lag_max_ms": round(max(sampler.lags, default=0) * 1000, 1),
            "server_cpu_s": round(cpu.user + cpu.system, 1),
            "load_avg": os.getloadavg(),
        }
    )
    report("soak_node_churn", figures)
    assert not figures["interrupted"], figures
    assert figures["connect_errors"] == 0 and figures["dropped"] == 0, figures
    assert figures["ack_timeouts"] == 0 and figures["wrong"] == 0 and dup == 0, figures
    assert figures["acked"] == figures["emits"] == handled and handled > 0, figures
    assert figures["connections"] >= CLIENTS, figures
    assert final["fds"] <= fds_before + 3, figures
    assert final["tasks"] <= tasks_before + 2, figures
    assert final["rss_mb"] - rss[0][1] < 30, figures  # generous: a short run, a shared machine
