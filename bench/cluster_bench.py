"""Broadcasts over 2 cluster nodes on one Redis: server CPU per delivery, and an idle node's CPU.

    python bench/cluster_bench.py [--kind siox|node|both] [--clients 1000] [--broadcasts 100]
        [--adapter classic|sharded|streams] [--mode fanout|idle] [--spaced] [--repeat N]
        [--profile DIR]

``fanout`` (the default): starts two nodes of ``--kind`` (siox: tests/cluster/cluster_app.py
with the Redis adapter; node: tests/node/cluster_server.js, socket.io 4.8 with
@socket.io/redis-adapter 8.3), connects ``--clients`` siox clients spread evenly over them, has
node 0 broadcast ``--broadcasts`` events to everyone, waits until every client has every event
(bounded), and prints the CPU time the two server processes spent, per 1,000 deliveries.
``--spaced``: one broadcast a millisecond or so (to every socket) instead of all at once, so
that fewer writes to a socket can be coalesced.

``idle``: every client is on node 0, in one room; node 1 has a few clients in no room. Node 0
broadcasts ``--broadcasts`` events to the room; the bench prints node 1's CPU over that time
next to its CPU over as long a time with no broadcast (in sharded mode a node with no member in
a room is not sent that room's broadcasts: the two should match).

``--kind both`` alternates siox and Node runs ``--repeat`` times and prints the medians and
their ratio (Node's CPU over siox's: above 1, siox spends less). ``--profile DIR`` runs the siox
nodes under cProfile (DIR/n0.prof, DIR/n1.prof; slower, for reading only). CPU is read from
/proc (each thread's run time, nanoseconds); the load average is printed since other processes
slow the run down (not the CPU it measures, but the cache and the scheduling it sees). Uses the
Redis of the tests (``SIOX_REDIS_URL``, 127.0.0.1:6379, or one it starts); Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import siox
from cluster.nodes import Node, NodeKind, start_nodes
from cluster.redis_server import find_or_start_redis

ROOM = "bench-room"


def cpu_seconds(pid: int) -> float:
    """The CPU time the threads of process ``pid`` have run so far (``schedstat``)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that just ended
    return total / 1e9


def cpu_of(nodes: Sequence[Node]) -> list[float]:
    """`cpu_seconds` of each node."""
    pids = [node.pid for node in nodes]
    assert all(pid is not None for pid in pids)
    return [cpu_seconds(pid) for pid in pids if pid is not None]


class Counter:
    """Counts deliveries; ``done`` is set once ``expected`` came."""

    def __init__(self, expected: int) -> None:
        self.received = 0
        self.expected = expected
        self.done = asyncio.Event()

    def __call__(self, *args: object) -> None:
        self.received += 1
        if self.received >= self.expected:
            self.done.set()


async def open_client(node: Node, opened: list[siox.Client]) -> siox.ClientSocket:
    """A connected websocket client of ``node``."""
    client = siox.Client(node.url, reconnection=False, transports=["websocket"])
    opened.append(client)
    socket = client.socket("/")
    await socket.connect(timeout=10)
    return socket


async def burst(
    driver: siox.ClientSocket, spec: dict[str, object], counter: Counter, op: str = "burst"
) -> float:
    """Have the driver's node broadcast; wait for the deliveries (bounded); the seconds taken."""
    started = time.perf_counter()
    await driver.emit_with_ack("ctl", {"op": op, "event": "m", **spec}, timeout=120)
    try:
        await asyncio.wait_for(counter.done.wait(), 120)
    except TimeoutError:
        print(f"only {counter.received} of {counter.expected} deliveries arrived")
    return time.perf_counter() - started


def profile_args(directory: str | None) -> Callable[[str], Sequence[str]] | None:
    """The interpreter options that profile siox node ``name`` into ``directory``."""
    if directory is None:
        return None
    Path(directory).mkdir(parents=True, exist_ok=True)
    return lambda name: ["-m", "cProfile", "-o", str(Path(directory) / f"{name}.prof")]


async def fanout(
    kind: NodeKind,
    clients: int,
    broadcasts: int,
    redis_url: str,
    adapter: str,
    profile: str | None,
    spaced: bool = False,
) -> float | None:
    """One fan-out run; print it and return the server CPU per 1,000 deliveries (seconds).

    None when deliveries were missing (clients dropped on a loaded machine): not a measure.

    ``spaced``: one broadcast a millisecond or so (to every socket, the driver's too) instead
    of all at once.
    """
    key = f"bench-{uuid.uuid4().hex[:8]}"
    nodes = start_nodes([kind, kind], redis_url, key, adapter, python_args=profile_args(profile))
    opened: list[siox.Client] = []
    try:
        counter = Counter(clients * broadcasts)
        for i in range(clients):
            socket = await open_client(nodes[i % 2], opened)
            socket.on("m", counter)
        driver = await open_client(nodes[0], opened)
        if spaced:
            driver.on("m", counter)
            counter.expected += broadcasts
        before = cpu_of(nodes)
        spec = {"count": broadcasts, "args": ["x" * 32, 1], "except": [driver.id]}
        elapsed = await burst(driver, spec, counter, "numbered" if spaced else "burst")
        spent = [b - a for a, b in zip(before, cpu_of(nodes), strict=True)]
        per_k = 1000 * sum(spent) / max(counter.received, 1)
        print(
            f"{kind} ({adapter}{', spaced' if spaced else ''}): {counter.received} deliveries "
            f"in {elapsed:.2f} s; server CPU "
            f"{spent[0]:.3f} s (broadcasting node) + {spent[1]:.3f} s (other node) = "
            f"{per_k * 1000:.2f} ms per 1,000 deliveries; load {os.getloadavg()[0]:.1f}"
        )
        return per_k if counter.received >= counter.expected else None
    finally:
        await close(opened, nodes, adapter, redis_url, key)


async def idle(
    kind: NodeKind,
    clients: int,
    broadcasts: int,
    redis_url: str,
    adapter: str,
    profile: str | None,
    spaced: bool = False,
) -> float | None:
    """One idle-node run; print it and return node 1's extra CPU per broadcast (seconds).

    None when deliveries were missing (not a measure).
    """
    key = f"bench-{uuid.uuid4().hex[:8]}"
    nodes = start_nodes([kind, kind], redis_url, key, adapter, python_args=profile_args(profile))
    opened: list[siox.Client] = []
    try:
        counter = Counter(clients * broadcasts)
        for _ in range(clients):
            socket = await open_client(nodes[0], opened)
            socket.on("m", counter)
            await socket.emit_with_ack("ctl", {"op": "join", "room": ROOM}, timeout=10)
        for _ in range(5):  # sockets of node 1, in no room
            await open_client(nodes[1], opened)
        driver = await open_client(nodes[0], opened)
        await asyncio.sleep(0.5)  # the subscriptions settle
        spec = {"count": broadcasts, "args": ["x" * 32, 1], "rooms": [ROOM]}
        before = cpu_of(nodes)
        elapsed = await burst(driver, spec, counter)
        await asyncio.sleep(0.2)  # what is in flight to node 1 arrives
        after = cpu_of(nodes)
        await asyncio.sleep(elapsed + 0.2)
        quiet = cpu_of(nodes)[1] - after[1]
        busy = after[1] - before[1]
        print(
            f"{kind} ({adapter}) idle node: {broadcasts} broadcasts to a room of {clients} "
            f"on the other node in {elapsed:.2f} s: CPU {busy * 1000:.2f} ms while they went, "
            f"{quiet * 1000:.2f} ms for as long without broadcasts "
            f"({(busy - quiet) / broadcasts * 1e6:.1f} us per broadcast); broadcasting node "
            f"{(after[0] - before[0]) * 1000:.0f} ms; load {os.getloadavg()[0]:.1f}"
        )
        return (busy - quiet) / broadcasts if counter.received >= counter.expected else None
    finally:
        await close(opened, nodes, adapter, redis_url, key)


async def close(
    opened: list[siox.Client], nodes: list[Node], adapter: str, redis_url: str, key: str
) -> None:
    """Close the clients, stop the nodes, drop the stream."""
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
    parser.add_argument("--kind", choices=["siox", "node", "both"], default="siox")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--broadcasts", type=int, default=100)
    parser.add_argument("--adapter", choices=["classic", "sharded", "streams"], default="classic")
    parser.add_argument("--mode", choices=["fanout", "idle"], default="fanout")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--spaced", action="store_true", help="one broadcast a millisecond")
    parser.add_argument("--profile", metavar="DIR")
    options = parser.parse_args()
    kinds: list[NodeKind] = ["siox", "node"] if options.kind == "both" else [options.kind]
    run = fanout if options.mode == "fanout" else idle
    url, started = find_or_start_redis()
    results: dict[str, list[float]] = {kind: [] for kind in kinds}
    invalid = 0
    try:
        for _ in range(options.repeat):
            for kind in kinds:
                try:
                    result = asyncio.run(
                        run(
                            kind,
                            options.clients,
                            options.broadcasts,
                            url,
                            options.adapter,
                            options.profile if kind == "siox" else None,
                            options.spaced,
                        )
                    )
                except siox.SioxError as exc:  # the driver dropped (a starved client process)
                    print(f"{kind}: the run failed: {exc!r}")
                    result = None
                if result is None:
                    invalid += 1
                else:
                    results[kind].append(result)
    finally:
        if started is not None:
            started.stop()
    unit, scale = ("ms per 1,000 deliveries", 1e3) if run is fanout else ("us per broadcast", 1e6)
    if invalid:
        print(f"{invalid} runs left out: deliveries were missing or the run failed")
    medians = {kind: statistics.median(values) for kind, values in results.items() if values}
    for name, value in medians.items():
        runs = ", ".join(f"{v * scale:.2f}" for v in results[name])
        print(f"median {name}: {value * scale:.2f} {unit} (runs: {runs})")
    if len(medians) == 2 and medians["siox"] > 0 and run is fanout:
        print(f"Node / siox: {medians['node'] / medians['siox']:.2f}x")


if __name__ == "__main__":
    main()
