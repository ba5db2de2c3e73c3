"""Faults: a node resubscribes after its subscriber connection is killed and after a Redis
restart; with Redis down, local broadcasts still go out.

The resubscription tests need a Redis of their own (they kill connections and restart it): they
start ``redis-server`` on a free port, and skip when it is not installed.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

import siox
from cluster.redis_server import RedisServer
from interop.server_process import free_port
from siox.adapters.redis import RedisEmitter, redis_adapter

pytestmark = pytest.mark.cluster
needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server"
)


class Node:
    """One in-process siox node on ``redis`` with one client that records events."""

    def __init__(self, redis: RedisServer) -> None:
        self.redis = redis
        self.received: list[tuple[Any, ...]] = []

    async def emit_until_received(self, event: str, tries: int = 50) -> int:
        """Emit ``event`` (numbered) through an emitter until the client gets one; the try."""
        admin = aioredis.Redis.from_url(self.redis.url)
        try:
            emitter = RedisEmitter(admin, key="k")
            for attempt in range(tries):
                await asyncio.sleep(0.1)
                try:
                    await emitter.emit(event, attempt)
                except (OSError, aioredis.ConnectionError):
                    continue  # Redis is still coming back
                await asyncio.sleep(0.1)
                if any(args[0] == event for args in self.received):
                    return attempt
        finally:
            await admin.aclose()
        raise AssertionError(f"{event!r} never arrived after {tries} tries")


@pytest.fixture
async def node() -> AsyncIterator[Node]:
    redis = RedisServer()
    redis.start()
    state = Node(redis)
    client = aioredis.Redis.from_url(redis.url)
    sio = siox.Server(adapter=redis_adapter(client, key="k"))
    try:
        await sio.server_count()
        async with siox.serve(sio, host="127.0.0.1", port=0, shutdown_timeout=1.0) as serving:
            peer = siox.Client(f"http://127.0.0.1:{serving.port}", reconnection=False)
            socket = peer.socket("/")
            socket.on_any(lambda *args: state.received.append(args))
            await socket.connect(timeout=5.0)
            try:
                yield state
            finally:
                await peer.close()
        await sio.of("/").adapter.close()
        await client.aclose()
    finally:
        state.redis.stop()


@needs_redis_server
async def test_a_killed_subscriber_connection_is_replaced_and_broadcasts_arrive_again(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    await node.emit_until_received("before")
    admin = aioredis.Redis.from_url(node.redis.url)
    try:
        with caplog.at_level(logging.WARNING, logger="siox.cluster"):
            assert await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 1
            await node.emit_until_received("after")
        assert (await admin.pubsub_numsub("k-request#/#"))[0][1] == 1
    finally:
        await admin.aclose()
    assert any("subscriber failed" in r.getMessage() for r in caplog.records)


@needs_redis_server
async def test_after_a_redis_restart_the_node_resubscribes(node: Node) -> None:
    await node.emit_until_received("before")
    port = node.redis.port
    node.redis.stop()
    node.redis = RedisServer(port)
    node.redis.start()
    await node.emit_until_received("after-restart")


async def test_with_redis_down_local_broadcasts_go_out_and_cluster_requests_raise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nobody listens
    sio = siox.Server(adapter=redis_adapter(client, key="k"))
    sio.on("round-trip", lambda socket: "ok")
    received: list[tuple[Any, ...]] = []
    async with siox.serve(sio, host="127.0.0.1", port=0, shutdown_timeout=1.0) as serving:
        peer = siox.Client(f"http://127.0.0.1:{serving.port}", reconnection=False)
        socket = peer.socket("/")
        socket.on_any(lambda *args: received.append(args))
        try:
            await socket.connect(timeout=5.0)
            with caplog.at_level(logging.WARNING, logger="siox.cluster"):
                await sio.emit("local", 1)
            with pytest.raises(aioredis.ConnectionError):
                await sio.server_count()
            assert await socket.emit_with_ack("round-trip", timeout=5.0) == "ok"  # after "local"
        finally:
            await peer.close()
    await client.aclose()
    assert received == [("local", 1)]
    assert any("stays local" in r.getMessage() for r in caplog.records)
