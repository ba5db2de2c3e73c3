"""The upgrade race: clients upgrade from polling to WebSocket while numbered packets flow.

The server broadcasts a numbered packet every millisecond (1 kHz) while clients connect over
long-polling and upgrade; every client also sends its own numbered packets to the server
throughout. Each side must see every number once, in order, with no gap from the first it saw
to the last: 0 lost, duplicated or reordered, in both directions.

Size (env): SIOX_UPGRADE_CLIENTS (20), SIOX_UPGRADE_SECONDS (3). Full size: 1,000 clients.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict

import siox
from rawpeer import running
from soak.soakkit import env_float, env_int, numbered_ticker, report

CLIENTS = env_int("SIOX_UPGRADE_CLIENTS", 20)
SECONDS = env_float("SIOX_UPGRADE_SECONDS", 3.0)
RATE_HZ = 1000


def _broken(sequence: list[int]) -> int:
    """How many steps of ``sequence`` are not +1 (gaps, duplicates, reorders)."""
    return sum(1 for a, b in itertools.pairwise(sequence) if b != a + 1)


async def test_upgrade_race_loses_duplicates_and_reorders_nothing_both_ways() -> None:
    sio = siox.Server()
    upstream: defaultdict[int, list[int]] = defaultdict(list)
    tick: asyncio.Task[int]

    @sio.on("up")
    def up(socket: siox.Socket, client: int, n: int) -> None:
        upstream[client].append(n)

    async with running(sio) as port:
        url = f"http://127.0.0.1:{port}"
        stop = asyncio.Event()

        received: dict[int, list[int]] = {}
        transports: dict[int, str | None] = {}
        sent_up: dict[int, int] = {}
        connections: list[siox.Client] = []

        async def client(index: int) -> None:
            await asyncio.sleep(SECONDS * 0.5 * index / CLIENTS)  # upgrades spread over time
            seen: list[int] = []
            received[index] = seen
            connection = siox.Client(url, reconnection=False)  # polling, then the upgrade
            connections.append(connection)
            socket = connection.socket("/")
            socket.on("n", seen.append)
            await socket.connect()
            count = 0
            try:
                while not stop.is_set():
                    count += 1
                    await socket.emit("up", index, count)
                    await asyncio.sleep(0.01)
                sent_up[index] = count
                last = await tick
                for _ in range(100):  # the last numbers land (the machine may lag)
                    if seen and seen[-1] >= last:
                        break
                    await asyncio.sleep(0.05)
                transports[index] = connection.transport
            finally:
                await connection.close()

        tick = asyncio.create_task(numbered_ticker(sio, RATE_HZ, stop))
        clients = asyncio.gather(*(client(i) for i in range(CLIENTS)))
        await asyncio.sleep(SECONDS)
        for _ in range(200):  # on a loaded machine some upgrades end late: keep emitting
            if len(connections) == CLIENTS and all(c.transport == "websocket" for c in connections):
                break
            await asyncio.sleep(0.05)
        stop.set()
        emitted = await tick
        await clients
        for _ in range(100):  # the last numbers sent up land too
            if all(len(upstream[i]) >= sent_up[i] for i in sent_up):
                break
            await asyncio.sleep(0.05)

    down_broken = sum(_broken(seq) for seq in received.values())
    up_broken = sum(_broken(seq) for seq in upstream.values())
    up_lost = sum(sent_up[i] - len(upstream[i]) for i in sent_up)
    upgraded = sum(1 for t in transports.values() if t == "websocket")
    figures = {
        "clients": CLIENTS,
        "seconds": SECONDS,
        "emitted": emitted,
        "delivered_down": sum(len(s) for s in received.values()),
        "down_broken_steps": down_broken,
        "sent_up": sum(sent_up.values()),
        "up_lost": up_lost,
        "up_broken_steps": up_broken,
        "upgraded": upgraded,
    }
    report("upgrade_race", figures)
    assert upgraded == CLIENTS, figures
    assert down_broken == 0 and up_broken == 0 and up_lost == 0, figures
    assert all(seq and seq[-1] == emitted for seq in received.values()), figures  # no lost tail
