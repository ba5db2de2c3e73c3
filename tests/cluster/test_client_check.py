"""Every Redis adapter and emitter refuses a client it cannot work with, before any I/O.

A ``RedisCluster`` client (the adapters need one ``redis.asyncio.Redis``: a standalone server
or a proxy) and a client decoding responses to strings (broadcasts are binary). Nothing here
connects: the clients point at a port nobody listens on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from siox.adapters.redis import (
    RedisEmitter,
    RedisStreamsEmitter,
    redis_adapter,
    redis_streams_adapter,
    sharded_redis_adapter,
)

FACTORIES: list[Callable[[Any], object]] = [
    redis_adapter,
    sharded_redis_adapter,
    redis_streams_adapter,
    RedisEmitter,
    RedisStreamsEmitter,
]
NAMES = ["redis_adapter", "sharded", "streams", "emitter", "streams_emitter"]


@pytest.mark.parametrize("make", FACTORIES, ids=NAMES)
async def test_a_redis_cluster_client_is_refused_with_a_type_error(
    make: Callable[[Any], object],
) -> None:
    client = RedisCluster(host="127.0.0.1", port=1)
    try:
        with pytest.raises(TypeError, match=r"redis\.asyncio\.Redis"):
            make(client)
    finally:
        await client.aclose()


@pytest.mark.parametrize("make", FACTORIES, ids=NAMES)
async def test_a_client_decoding_responses_is_refused(make: Callable[[Any], object]) -> None:
    client = aioredis.Redis(host="127.0.0.1", port=1, decode_responses=True)
    try:
        with pytest.raises(ValueError, match="decode_responses=False"):
            make(client)
    finally:
        await client.aclose()
