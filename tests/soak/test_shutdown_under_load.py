"""Graceful shutdown under load: SIGTERM while every client has acks in flight.

Every client must see a disconnect with a reason (none hangs), the server process must exit
within its shutdown deadline (plus a margin for process start-up and the machine's load),
and it must log nothing as an unhandled error.

Size (env): SIOX_SHUTDOWN_CLIENTS (60). Full size: 1,000.
"""

from __future__ import annotations

import asyncio
import signal
import time

import siox
from soak.soakkit import env_int, report, shutdown_server

CLIENTS = env_int("SIOX_SHUTDOWN_CLIENTS", 60)
DEADLINE = 3.0


async def test_shutdown_under_load_every_client_gets_a_reason_and_the_server_exits_in_time() -> (
    None
):
    async with shutdown_server(DEADLINE) as server:
        url = f"http://127.0.0.1:{server.port}"
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
        server.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(gone.wait(), DEADLINE + 10)
        seen_all = time.monotonic() - started
        await asyncio.wait_for(server.process.wait(), DEADLINE + 10)
        exited = time.monotonic() - started
        outcomes = await asyncio.gather(*in_flight, return_exceptions=True)
        for client in clients:
            await client.close()
    figures = {
        "clients": CLIENTS,
        "deadline_s": DEADLINE,
        "all_disconnected_s": round(seen_all, 2),
        "exited_s": round(exited, 2),
        "reasons": sorted(set(reasons.values())),
        "acks_failed": sum(isinstance(o, siox.NotConnected) for o in outcomes),
        "acks_other": sum(not isinstance(o, siox.NotConnected) for o in outcomes),
        "stderr_bytes": len(server.errors),
    }
    report("shutdown_under_load", figures)
    assert len(reasons) == CLIENTS, figures
    assert all(reasons.values()), figures
    server.check_clean_exit(exited)
