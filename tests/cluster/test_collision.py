"""A classic adapter and a sharded/streams adapter on one channel prefix are refused at start."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

import siox
from cluster.nodes import Node
from siox.adapters.redis import (
    ChannelCollision,
    redis_adapter,
    redis_streams_adapter,
    sharded_redis_adapter,
)

pytestmark = pytest.mark.cluster

Cluster = Callable[..., list[Node]]


def message_adapters(client: aioredis.Redis, key: str) -> dict[str, Any]:
    return {
        "streams": redis_streams_adapter(client, stream_name=key, channel_prefix=key),
        "sharded": sharded_redis_adapter(client, channel_prefix=key),
    }


@pytest.mark.parametrize("running", ["streams", "sharded"])
async def test_a_classic_adapter_on_a_prefix_in_use_by_another_kind_is_refused(
    cluster: Cluster, redis_url: str, cluster_key: str, running: str
) -> None:
    cluster("siox", adapter=running)
    client = aioredis.Redis.from_url(redis_url)
    try:
        sio = siox.Server(adapter=redis_adapter(client, key=cluster_key))
        with pytest.raises(ChannelCollision, match="another key or channel_prefix"):
            await sio.server_count()
        # another key is fine
        other = siox.Server(adapter=redis_adapter(client, key=cluster_key + "-other"))
        assert await other.server_count() == 1
        await other.of("/").adapter.close()
    finally:
        await client.aclose()


@pytest.mark.parametrize("kind", ["siox", pytest.param("node", marks=pytest.mark.interop)])
@pytest.mark.parametrize("wanted", ["streams", "sharded"])
async def test_a_streams_or_sharded_adapter_on_a_classic_key_is_refused(
    cluster: Cluster, redis_url: str, cluster_key: str, kind: str, wanted: str
) -> None:
    if kind == "node" and shutil.which("node") is None:
        pytest.skip("needs Node.js")
    cluster(kind)  # a classic node
    client = aioredis.Redis.from_url(redis_url)
    try:
        sio = siox.Server(adapter=message_adapters(client, cluster_key)[wanted])
        with pytest.raises(ChannelCollision, match="classic Redis adapter uses the key"):
            await sio.server_count()
    finally:
        await client.aclose()
