"""The sharded adapter's own behaviour: per-room subscriptions, hostile messages, old servers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

import siox
from cluster.nodes import Node, Peer, settle
from siox.adapters.redis import ShardedPubSubUnsupported, sharded_redis_adapter

pytestmark = pytest.mark.cluster

Cluster = Callable[..., list[Node]]
Peers = Callable[..., Awaitable[Peer]]


async def shard_subscribers(redis_url: str, channel: str) -> int:
    client = aioredis.Redis.from_url(redis_url)
    try:
        reply = await client.execute_command("PUBSUB", "SHARDNUMSUB", channel)
        return int(reply[1])
    finally:
        await client.aclose()


async def test_a_node_subscribes_to_a_room_only_while_it_has_members_there(
    cluster: Cluster, peers: Peers, redis_url: str, cluster_key: str
) -> None:
    nodes = cluster("siox", "siox", adapter="sharded")
    a = await peers(nodes[0])
    b = await peers(nodes[1])
    room = f"{cluster_key}#/#lobby#"
    assert await shard_subscribers(redis_url, room) == 0
    await a.ctl("join", room="lobby")
    assert await shard_subscribers(redis_url, room) == 1
    await b.ctl("join", room="lobby")
    assert await shard_subscribers(redis_url, room) == 2
    # socket-id rooms get no channel in dynamic mode
    assert await shard_subscribers(redis_url, f"{cluster_key}#/#{a.id}#") == 0
    await a.client.close()
    await settle(0.3)
    assert await shard_subscribers(redis_url, room) == 1
    await b.ctl("leave_all", room="lobby")
    await settle(0.3)
    assert await shard_subscribers(redis_url, room) == 0
    assert await shard_subscribers(redis_url, f"{cluster_key}#/#") == 2


@pytest.mark.parametrize(("adapter", "private"), [("sharded-static", 0), ("sharded-private", 1)])
async def test_static_mode_has_no_room_channel_and_private_mode_one_per_socket(
    cluster: Cluster, peers: Peers, redis_url: str, cluster_key: str, adapter: str, private: int
) -> None:
    (node,) = cluster("siox", adapter=adapter)
    a = await peers(node)
    await a.ctl("join", room="lobby")
    public = 0 if adapter == "sharded-static" else 1
    assert await shard_subscribers(redis_url, f"{cluster_key}#/#lobby#") == public
    assert await shard_subscribers(redis_url, f"{cluster_key}#/#{a.id}#") == private


async def test_hostile_messages_on_the_channels_are_dropped(
    cluster: Cluster, peers: Peers, redis_url: str, cluster_key: str
) -> None:
    nodes = cluster("siox", "siox", adapter="sharded")
    a, b = await peers(nodes[0]), await peers(nodes[1])
    await b.ctl("join", room="lobby")
    client = aioredis.Redis.from_url(redis_url)
    hostile = [
        b"{not json",
        b"\xc1",
        b'{"uid":"x","nsp":"/","type":3,"data":{"packet":{"type":2,"data":"no"},"opts":{}}}',
        b'{"uid":"x","nsp":"/","type":99,"data":{}}',
        b'{"uid":"x","nsp":"/","type":7,"data":{"requestId":5}}',
        b'{"uid":"x","nsp":"/","type":4,"data":{"opts":{"rooms":[]},"rooms":[{}]}}',
        b"[1,2,3]",
        b"x" * 100,
    ]
    try:
        for channel in (f"{cluster_key}#/#", f"{cluster_key}#/#lobby#"):
            for message in hostile:
                await client.execute_command("SPUBLISH", channel, message)
    finally:
        await client.aclose()
    await a.ctl("emit", rooms=["lobby"], event="still-here")
    await b.ctl("emit", event="and-here")
    assert await b.wait_events("still-here", 1) == [()]
    assert await a.wait_events("and-here", 1) == [()]
    assert await a.ctl("count") == 2
    await settle(0.2)
    # (the two come from two nodes: their order is not given, a node does not wait for Redis)
    assert sorted(name for name, _ in b.received) == ["and-here", "still-here"]


@contextlib.asynccontextmanager
async def redis_without_sharded_pubsub() -> AsyncIterator[str]:
    """A server speaking RESP that answers like Redis 6: no ``PUBSUB SHARDNUMSUB``."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                if not line.startswith(b"*"):
                    continue
                words = []
                for _ in range(int(line[1:])):
                    size = int((await reader.readline())[1:])
                    words.append((await reader.readexactly(size + 2))[:-2])
                if words[:2] == [b"PUBSUB", b"SHARDNUMSUB"]:
                    writer.write(
                        b"-ERR Unknown subcommand or wrong number of arguments for 'SHARDNUMSUB'\r\n"
                    )
                else:
                    writer.write(b"+OK\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_server_without_sharded_pubsub_is_refused_with_a_clear_error() -> None:
    async with redis_without_sharded_pubsub() as url:
        client = aioredis.Redis.from_url(url)
        sio = siox.Server(adapter=sharded_redis_adapter(client, channel_prefix="old"))
        with pytest.raises(ShardedPubSubUnsupported, match=r"SSUBSCRIBE.*Redis 7"):
            await sio.server_count()
        await client.aclose()


def test_an_unknown_subscription_mode_is_refused() -> None:
    client = aioredis.Redis()
    with pytest.raises(ValueError, match="subscription_mode"):
        sharded_redis_adapter(client, subscription_mode="sometimes")  # type: ignore[arg-type]


async def test_a_room_channel_stays_while_a_recoverable_socket_may_come_back(
    redis_url: str, cluster_key: str
) -> None:
    window = 0.6
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    recovery = siox.Recovery(max_disconnection_duration=window)
    home, other = (
        siox.Server(
            adapter=sharded_redis_adapter(c, channel_prefix=cluster_key),
            connection_state_recovery=recovery,
        )
        for c in clients
    )
    room = f"{cluster_key}#/#lobby#"

    @home.on("connect")
    async def join(socket: siox.Socket) -> None:
        await socket.join("lobby")

    try:
        await home.server_count()
        await other.server_count()
        async with siox.serve(home, host="127.0.0.1", port=0, shutdown_timeout=1.0) as serving:
            peer = siox.Client(f"http://127.0.0.1:{serving.port}", reconnection=False)
            await peer.socket("/").connect(timeout=5.0)
            assert await shard_subscribers(redis_url, room) == 1
            for socket in list(home.of("/").sockets.values()):
                socket.conn.close()  # "forced close": the session is kept for recovery
            await settle(0.3)
            assert await shard_subscribers(redis_url, room) == 1  # it may come back
            await asyncio.sleep(window + 0.5)
            await other.to("lobby").emit("late")  # the home node sweeps expired sessions
            await settle(0.3)
            assert await shard_subscribers(redis_url, room) == 0
            await peer.close()
        for server in (home, other):
            await server.of("/").adapter.close()
    finally:
        for client in clients:
            await client.aclose()
