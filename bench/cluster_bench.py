"""Broadcast to clients spread over 2 cluster nodes on one Redis: server CPU per delivery.

    python bench/cluster_bench.py --kind siox|node [--clients 1000] [--broadcasts 100]
        [--adapter classic|sharded|streams]

Starts two nodes of ``--kind`` (siox: tests/cluster/cluster_app.py with the Redis adapter;
node: tests/node/cluster_server.js, socket.io 4.8 with @socket.io/redis-adapter 8.3), connects
``--clients`` siox clients spread evenly over them, has node 0 broadcast ``--broadcasts`` events
to everyone, waits until every client has every event (bounded), and prints the CPU time the
two server processes spent (from /proc), per 1,000 deliveries. Uses the Redis of the tests
(``SIOX_REDIS_URL``, 127.0.0.1:6379, or one it starts); Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import siox
from cluster.nodes import NodeKind, start_nodes
from cluster.redis_server import find_or_start_redis

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def run(
    kind: NodeKind, clients: int, broadcasts: int, redis_url: str, adapter: str = "classic"
) -> None:
    key = f"bench-{uuid.uuid4().hex[:8]}"
    nodes = start_nodes([kind, kind], redis_url, key, adapter)
    opened: list[siox.Client] = []
    try:
        received = [0]
        done = asyncio.Event()
        expected = clients * broadcasts

        def count(*args: object) -> None:
            received[0] += 1
            if received[0] >= expected:
                done.set()

        for i in range(clients):
            client = siox.Client(nodes[i % 2].url, reconnection=False, transports=["websocket"])
            socket = client.socket("/")
            socket.on("m", count)
            await socket.connect(timeout=10)
            opened.append(client)
        driver_client = siox.Client(nodes[0].url, reconnection=False, transports=["websocket"])
        opened.append(driver_client)
        driver = driver_client.socket("/")
        await driver.connect(timeout=10)
        pids = [node.pid for node in nodes]
        assert all(pid is not None for pid in pids)
        before = [cpu_seconds(pid) for pid in pids if pid is not None]
        started = time.perf_counter()
        spec = {"op": "burst", "event": "m", "count": broadcasts, "args": ["x" * 32, 1]}
        spec["except"] = [driver.id]
        await driver.emit_with_ack("ctl", spec, timeout=60)
        try:
            await asyncio.wait_for(done.wait(), 120)
        except TimeoutError:
            print(f"only {received[0]} of {expected} deliveries arrived")
        elapsed = time.perf_counter() - started
        after = [cpu_seconds(pid) for pid in pids if pid is not None]
        spent = [b - a for a, b in zip(before, after, strict=True)]
        per_k = 1000 * sum(spent) / max(received[0], 1)
        print(
            f"{kind} ({adapter}): {received[0]} deliveries in {elapsed:.2f} s; server CPU "
            f"{spent[0]:.2f} s (broadcasting node) + {spent[1]:.2f} s (other node) = "
            f"{per_k * 1000:.1f} ms per 1,000 deliveries"
        )
    finally:
        for client in opened:
            await client.close()
        for node in nodes:
            node.close()
        if adapter == "streams":
            import redis

            redis.Redis.from_url(redis_url).delete(key)


def main() -> None:
    """Parse the options, find Redis, run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["siox", "node"], default="siox")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--broadcasts", type=int, default=100)
    parser.add_argument("--adapter", choices=["classic", "sharded", "streams"], default="classic")
    options = parser.parse_args()
    url, started = find_or_start_redis()
    try:
        asyncio.run(run(options.kind, options.clients, options.broadcasts, url, options.adapter))
    finally:
        if started is not None:
            started.stop()


if __name__ == "__main__":
    main()
