"""Graceful shutdown under load: SIGTERM while every client has acks in flight.

Every client must see a disconnect with a reason (none hangs), the server process must exit
within its shutdown deadline (plus a margin for process start-up and the machine's load),
and it must log nothing as an unhandled error.

Size (env): SIOX_SHUTDOWN_CLIENTS (60). Full size: 1,000.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import siox
from soak.soakkit import env_int, report

CLIENTS = env_int("SIOX_SHUTDOWN_CLIENTS", 60)
DEADLINE = 3.0
HERE = Path(__file__).resolve().parent


async def test_shutdown_under_load_every_client_gets_a_reason_and_the_server_exits_in_time() -> (
    None
):
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
        url = f"http://127.0.0.1:{port}"
        reasons: dict[int, str] = {}
        clients: list[siox.Client] = []
        in_flight: list[asyncio.Task[object]] = []
        gone = asyncio.Event()

        async def join(index: int) -> None:
            transports = ("polling",) if index % 5 == 0 else ("websocket",)
            client = siox.Client(url, transports=transports, reconnection=False)
            clients.append(client)
            socket = client.socket("/")

            @socket.on("disconnect")
            def disconnected(reason: str, description: object = None) -> None:
                reasons[index] = reason
                if len(reasons) == CLIENTS:
                    gone.set()

            await socket.connect()
            for n in range(3):
                in_flight.append(asyncio.create_task(socket.emit_with_ack("slow", n, timeout=60)))

        await asyncio.gather(*(join(i) for i in range(CLIENTS)))
        await asyncio.sleep(0.5)  # the acks are in flight
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(gone.wait(), DEADLINE + 10)
        seen_all = time.monotonic() - started
        await asyncio.wait_for(server.wait(), DEADLINE + 10)
        exited = time.monotonic() - started
        outcomes = await asyncio.gather(*in_flight, return_exceptions=True)
        for client in clients:
            await client.close()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    errors = (await server.stderr.read()).decode()
    figures = {
        "clients": CLIENTS,
        "deadline_s": DEADLINE,
        "all_disconnected_s": round(seen_all, 2),
        "exited_s": round(exited, 2),
        "reasons": sorted(set(reasons.values())),
        "acks_failed": sum(isinstance(o, siox.NotConnected) for o in outcomes),
        "acks_other": sum(not isinstance(o, siox.NotConnected) for o in outcomes),
        "stderr_bytes": len(errors),
    }
    report("shutdown_under_load", figures)
    assert len(reasons) == CLIENTS, figures
    assert all(reasons.values()), figures
    assert exited < DEADLINE + 2.0, figures
    assert server.returncode == 0, (server.returncode, errors)
    assert "Traceback" not in errors and "ERROR" not in errors, errors
    assert "never retrieved" not in errors, errors
