"""Faults with the sharded and streams adapters: the subscriber connection killed, Redis
restarted — each node subscribes again (and reads the stream again) and broadcasts arrive.

These tests need a Redis of their own: they start ``redis-server`` on a free port, and skip
when it is not installed.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

import siox
from cluster.redis_server import RedisServer
from siox.adapters.redis import redis_streams_adapter, sharded_redis_adapter

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def adapter(kind: str, client: aioredis.Redis) -> Any:
    if kind == "sharded":
        return sharded_redis_adapter(client, channel_prefix="k")
    return redis_streams_adapter(client, stream_name="k", channel_prefix="k")


class Pair:
    """Two in-process nodes on one Redis; the second has a client that records events."""

    def __init__(self, redis: RedisServer, kind: str) -> None:
        self.redis = redis
        self.kind = kind
        self.received: list[tuple[Any, ...]] = []
        self.sender: siox.Server | None = None

    async def emit_until_received(self, event: str, tries: int = 60) -> int:
        """Broadcast ``event`` (numbered) from the first node until the client gets one."""
        assert self.sender is not None
        for attempt in range(tries):
            await asyncio.sleep(0.1)
            await self.sender.to("room-r").emit(event, attempt)  # logged and local while down
            await asyncio.sleep(0.1)
            if any(args[0] == event for args in self.received):
                return attempt
        raise AssertionError(f"{event!r} never arrived after {tries} tries")


@pytest.fixture(params=["sharded", "streams"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    redis = RedisServer()
    redis.start()
    state = Pair(redis, request.param)
    clients = [aioredis.Redis.from_url(redis.url) for _ in range(2)]
    first, second = (siox.Server(adapter=adapter(state.kind, c)) for c in clients)
    state.sender = first

    @second.on("connect")
    async def join(socket: siox.Socket) -> None:
        await socket.join("room-r")

    try:
        await first.server_count()
        await second.server_count()
        async with siox.serve(second, host="127.0.0.1", port=0, shutdown_timeout=1.0) as serving:
            peer = siox.Client(f"http://127.0.0.1:{serving.port}", reconnection=False)
            socket = peer.socket("/")
            socket.on_any(lambda *args: state.received.append(args))
            await socket.connect(timeout=5.0)
            try:
                yield state
            finally:
                await peer.close()
        for server in (first, second):
            await server.of("/").adapter.close()
        for client in clients:
            await client.aclose()
    finally:
        state.redis.stop()


async def test_a_killed_subscriber_connection_is_replaced(pair: Pair) -> None:
    await pair.emit_until_received("before")
    admin = aioredis.Redis.from_url(pair.redis.url)
    try:
        assert await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 2
        await pair.emit_until_received("after")
        if pair.kind == "sharded":
            reply = await admin.execute_command("PUBSUB", "SHARDNUMSUB", "k#/#room-r#")
            assert reply[1] == 1  # the room channel came back too
        else:
            assert (await admin.pubsub_numsub("k#/#"))[0][1] == 2
    finally:
        await admin.aclose()


async def test_after_a_redis_restart_the_nodes_carry_on(pair: Pair) -> None:
    await pair.emit_until_received("before")
    port = pair.redis.port
    pair.redis.stop()
    pair.redis = RedisServer(port)
    pair.redis.start()
    await pair.emit_until_received("after-restart")
