"""Whatever is published on the cluster's channels, a node logs bad messages and carries on."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgpack
import pytest
import redis.asyncio as aioredis

import siox
from siox.adapters.redis import RedisEmitter, redis_adapter

pytestmark = pytest.mark.cluster

LIMIT = 10_000


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


def garbage(key: str) -> list[tuple[str, bytes]]:
    """(channel, message) pairs no node should act on."""
    broadcast, request, response = f"{key}#/#", f"{key}-request#/#", f"{key}-response#/#"
    pack = msgpack.packb
    good_opts: dict[str, Any] = {"rooms": [], "except": [], "flags": {}}
    return [
        (broadcast, b"\xc1\xc1\xc1"),  # never-used MessagePack byte
        (broadcast, b""),
        (broadcast, pack("just a string")),
        (broadcast, pack(["uid", {"type": 2, "data": "not a list", "nsp": "/"}, good_opts])),
        (broadcast, pack(["uid", {"type": 0, "data": ["ev"], "nsp": "/"}, good_opts])),
        (broadcast, pack(["uid", {"type": 2, "data": [1, 2], "nsp": "/"}, good_opts])),
        (broadcast, pack(["uid", {"type": 2, "data": ["ev"], "nsp": "/"}, {"rooms": 5}])),
        (broadcast, pack(["uid", {"type": 2, "data": ["ev", nested(100)], "nsp": "/"}, {}])),
        (broadcast, pack(["uid", {"type": 2, "data": ["ev", "x" * LIMIT], "nsp": "/"}, {}])),
        (broadcast, msgpack.packb([1, msgpack.ExtType(42, b"x"), {}])),
        (f"{key}#/#room-nobody-is-in#", b"\xff" * 50),
        (request, b"{not json"),
        (request, b"{}"),
        (request, json.dumps({"type": 99}).encode()),
        (request, json.dumps({"type": "5", "requestId": 1}).encode()),
        (request, json.dumps({"type": 5, "requestId": "r", "opts": "x"}).encode()),
        (request, json.dumps({"type": 5, "requestId": "r"}).encode()),
        (request, json.dumps({"type": 2, "opts": {"rooms": [{}]}, "rooms": ["a"]}).encode()),
        (request, json.dumps({"type": 6, "data": [{"not": "an event"}]}).encode()),
        (request, json.dumps({"type": 7, "requestId": "r", "packet": None}).encode()),
        (request, b"[" * 100_000),
        (response, b"\x93\x01\x02"),
        (response, json.dumps({"requestId": ["x"]}).encode()),
    ]


@pytest.fixture
async def node(
    redis_url: str, cluster_key: str
) -> AsyncIterator[tuple[siox.Server, siox.ClientSocket]]:
    client = aioredis.Redis.from_url(redis_url)
    sio = siox.Server(adapter=redis_adapter(client, key=cluster_key, max_message_size=LIMIT))
    sio.on_server_side("ping", lambda x: f"pong {x}")
    await sio.server_count()
    async with siox.serve(sio, host="127.0.0.1", port=0, shutdown_timeout=1.0) as serving:
        peer = siox.Client(f"http://127.0.0.1:{serving.port}", reconnection=False)
        socket = peer.socket("/")
        await socket.connect(timeout=5.0)
        try:
            yield sio, socket
        finally:
            await peer.close()
    await sio.of("/").adapter.close()  # serve() shuts the engine down, not the adapters
    await client.aclose()


async def test_garbage_on_every_channel_is_logged_and_the_node_keeps_working(
    node: tuple[siox.Server, siox.ClientSocket],
    redis_url: str,
    cluster_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sio, socket = node
    received: list[tuple[Any, ...]] = []
    arrived = asyncio.Event()

    @socket.on_any
    def record(*args: Any) -> None:
        received.append(args)
        arrived.set()

    publisher = aioredis.Redis.from_url(redis_url)
    try:
        with caplog.at_level(logging.WARNING, logger="siox.cluster"):
            for channel, message in garbage(cluster_key):
                await publisher.publish(channel, message)
            await RedisEmitter(publisher, key=cluster_key).emit("after", "fine")
            await asyncio.wait_for(arrived.wait(), 5.0)
    finally:
        await publisher.aclose()
    assert received == [("after", "fine")]
    dropped = [r.getMessage() for r in caplog.records if r.name == "siox.cluster"]
    assert len(dropped) == len(garbage(cluster_key)) - 1  # the room nobody is in: not read
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(cluster_key in line for line in dropped)
    assert any("more than the 10000 allowed" in line for line in dropped)
    assert any("nested too deep" in line for line in dropped)
    assert await sio.server_count() == 1
    assert [s.id for s in await sio.fetch_sockets()] == [socket.id]
