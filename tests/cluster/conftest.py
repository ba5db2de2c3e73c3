"""Fixtures of the cluster tests: one Redis for the session, a key per test, nodes and clients
that are stopped (by PID) and closed at the end of each test."""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import redis

from cluster.nodes import Node, NodeKind, Peer, connect, start_nodes
from cluster.redis_server import find_or_start_redis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``SIOX_REDIS_URL``, the Redis on 127.0.0.1:6379, or one started for the session."""
    url, started = find_or_start_redis()
    try:
        yield url
    finally:
        if started is not None:
            started.stop()


@pytest.fixture
def cluster_key() -> str:
    """A channel prefix of this test's own: tests never see each other's messages."""
    return f"siox-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def cluster(redis_url: str, cluster_key: str) -> Iterator[Callable[..., list[Node]]]:
    """``cluster("siox", "node", ..., adapter="classic", recovery=False)``: start those nodes on
    this test's key (the stream of a streams cluster is deleted at the end)."""
    started: list[Node] = []
    adapters: set[str] = set()

    def start(*kinds: NodeKind, adapter: str = "classic", recovery: bool = False) -> list[Node]:
        adapters.add(adapter)
        nodes = start_nodes(list(kinds), redis_url, cluster_key, adapter, recovery)
        started.extend(nodes)
        return nodes

    try:
        yield start
    finally:
        for node in started:
            node.close()
        if adapters & {"streams", "streams-sharded"}:
            # the one stream, or the three of streams-sharded (numbered -2 to 2: see stream_for)
            spread = [f"{cluster_key}-{i}" for i in range(-2, 3)]
            redis.Redis.from_url(redis_url).delete(cluster_key, *spread)


@pytest.fixture
async def peers() -> AsyncIterator[Callable[[Node], Awaitable[Peer]]]:
    """``await peers(node)``: a connected client of ``node``, closed at the end of the test."""
    opened: list[Peer] = []

    async def open_peer(node: Node, reconnection: bool = False) -> Peer:
        peer = await connect(node, reconnection)
        opened.append(peer)
        return peer

    try:
        yield open_peer
    finally:
        for peer in opened:
            await peer.client.close()


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test() -> Iterator[None]:
    """Collect garbage after each cluster test, so that a Redis connection a test leaves open
    is reported (as an unraisable ResourceWarning) in that test, not in whichever test happens
    to run when the collector next passes."""
    yield
    gc.collect()
