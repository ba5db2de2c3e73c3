"""Graceful shutdown under an out-of-process load: SIGTERM while Node clients wait for acks.

As test_shutdown_under_load.py, with the clients in Node processes (tests/soak/loadgen.js;
80 % WebSocket, 20 % polling, 3 acks in flight each): every client must see a disconnect with
a reason, the server process must exit within its deadline (plus a margin for the machine's
load), and log nothing as an unhandled error.

Size (env): SIOX_SHUTDOWN_NODE_CLIENTS (100). Full size: 1,000.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

from soak.loadgen import LoadGen, need_node
from soak.soakkit import env_int, report, shutdown_server

CLIENTS = env_int("SIOX_SHUTDOWN_NODE_CLIENTS", 100)
DEADLINE = 3.0


async def test_node_shutdown_under_load_every_client_gets_a_reason_and_the_server_exits_in_time() -> (
    None
):
    need_node()
    async with shutdown_server(DEADLINE) as server:
        url = f"http://127.0.0.1:{server.port}"
        async with LoadGen("shutdown", url, CLIENTS, DEADLINE + 20) as load:
            await load.ready(timeout=60 + CLIENTS / 20)
            await asyncio.sleep(0.5)  # the acks are in flight
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(server.process.wait(), DEADLINE + 10)
            exited = time.monotonic() - started
            figures = await load.result(timeout=DEADLINE + 30)
    figures.update(
        {
            "deadline_s": DEADLINE,
            "exited_s": round(exited, 2),
            "stderr_bytes": len(server.errors),
            "load_avg": os.getloadavg(),
        }
    )
    report("shutdown_node", figures)
    assert figures["clients"] == CLIENTS and figures["connect_errors"] == 0, figures
    assert figures["disconnected"] == CLIENTS, figures
    assert sum(figures["reasons"].values()) == CLIENTS and "" not in figures["reasons"], figures
    assert figures["acks_failed"] == 3 * CLIENTS, figures
    server.check_clean_exit(exited)
