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
import sys
import time
from pathlib import Path

from soak.loadgen import LoadGen, need_node
from soak.soakkit import env_int, report

CLIENTS = env_int("SIOX_SHUTDOWN_NODE_CLIENTS", 100)
DEADLINE = 3.0
HERE = Path(__file__).resolve().parent


async def test_node_shutdown_under_load_every_client_gets_a_reason_and_the_server_exits_in_time() -> (
    None
):
    need_node()
    src = str(HERE.parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "shutdown_server.py"),
        str(DEADLINE),
        "60",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert server.stdout is not None and server.stderr is not None
    try:
        port = int(await asyncio.wait_for(server.stdout.readline(), 15))
        async with LoadGen("shutdown", f"http://127.0.0.1:{port}", CLIENTS, DEADLINE + 20) as load:
            await load.ready(timeout=60 + CLIENTS / 20)
            await asyncio.sleep(0.5)  # the acks are in flight
            started = time.monotonic()
            server.send_signal(signal.SIGTERM)
            await asyncio.wait_for(server.wait(), DEADLINE + 10)
            exited = time.monotonic() - started
            figures = await load.result(timeout=DEADLINE + 30)
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    errors = (await server.stderr.read()).decode()
    figures.update(
        {
            "deadline_s": DEADLINE,
            "exited_s": round(exited, 2),
            "stderr_bytes": len(errors),
            "load_avg": os.getloadavg(),
        }
    )
    report("shutdown_node", figures)
    assert figures["clients"] == CLIENTS and figures["connect_errors"] == 0, figures
    assert figures["disconnected"] == CLIENTS, figures
    assert sum(figures["reasons"].values()) == CLIENTS and "" not in figures["reasons"], figures
    assert figures["acks_failed"] == 3 * CLIENTS, figures
    assert exited < DEADLINE + 2.0, figures
    assert server.returncode == 0, (server.returncode, errors)
    assert "Traceback" not in errors and "ERROR" not in errors, errors
    assert "never retrieved" not in errors, errors
