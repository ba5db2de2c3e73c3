"""Refusing a configuration where two kinds of Redis adapter share one channel prefix.

A classic adapter on key ``K`` pattern-subscribes to ``K#nsp#*``, which covers the channels the
sharded and streams adapters use with the prefix ``K`` (their default is ``socket.io`` too): a
classic node would receive their messages (a Node classic node crashes on them). Each siox
adapter checks at subscription time whether nodes of the other kind are subscribed on that
Redis, and refuses with `ChannelCollision` if so. The check sees nodes that are running; two
nodes of different kinds starting at the same instant can still miss each other.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

__all__ = ["ChannelCollision", "refuse_classic_collision", "refuse_message_collision"]


class ChannelCollision(RuntimeError):
    """Another kind of Redis adapter uses this channel prefix on the same Redis."""


async def _count(client: aioredis.Redis, subcommand: str, channel: str) -> int:
    try:
        reply: Any = await client.execute_command("PUBSUB", subcommand, channel)  # type: ignore[no-untyped-call]
    except ResponseError:
        return 0  # no sharded Pub/Sub on this server: nobody can use it
    return int(reply[1]) if isinstance(reply, list) and len(reply) > 1 else 0


async def refuse_classic_collision(client: aioredis.Redis, key: str, nsp: str) -> None:
    """Raise `ChannelCollision` if sharded or streams nodes use ``key`` as their prefix."""
    channel = f"{key}#{nsp}#"
    if await _count(client, "NUMSUB", channel) or await _count(client, "SHARDNUMSUB", channel):
        raise ChannelCollision(
            f"a sharded or streams adapter uses the channel prefix {key!r} on this Redis "
            f"(nodes subscribe to {channel!r}); a classic adapter with key={key!r} would "
            "receive their messages: give one of the clusters another key or channel_prefix"
        )


async def refuse_message_collision(client: aioredis.Redis, prefix: str, nsp: str) -> None:
    """Raise `ChannelCollision` if classic nodes use ``prefix`` as their key."""
    channel = f"{prefix}-request#{nsp}#"
    if await _count(client, "NUMSUB", channel):
        raise ChannelCollision(
            f"a classic Redis adapter uses the key {prefix!r} on this Redis (nodes subscribe "
            f"to {channel!r}); it would receive this adapter's messages on {prefix}#{nsp}#...: "
            "give one of the clusters another key or channel_prefix"
        )
