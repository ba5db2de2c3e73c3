"""The streams adapter's own behaviour: its emitter, hostile stream entries and messages."""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

import siox
from cluster.nodes import Node, Peer, settle
from siox.adapters.redis import RedisStreamsEmitter, redis_streams_adapter
from siox.adapters.streams import stream_for

pytestmark = pytest.mark.cluster
NODE_DIR = Path(__file__).resolve().parents[1] / "node"

Cluster = Callable[..., list[Node]]
Peers = Callable[..., Awaitable[Peer]]

KINDS = [
    pytest.param(("siox", "siox"), id="siox+siox"),
    pytest.param(
        ("siox", "node"),
        id="siox+node",
        marks=[
            pytest.mark.interop,
            pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js"),
        ],
    ),
]


@pytest.mark.parametrize("kinds", KINDS)
async def test_the_streams_emitter_reaches_the_clients_of_every_node(
    cluster: Cluster, peers: Peers, redis_url: str, cluster_key: str, kinds: tuple[str, str]
) -> None:
    nodes = cluster(*kinds, adapter="streams")
    a, b = await peers(nodes[0]), await peers(nodes[1])
    await b.ctl("join", room="r")
    client = aioredis.Redis.from_url(redis_url)
    emitter = RedisStreamsEmitter(client, cluster_key, channel_prefix=cluster_key)
    try:
        await emitter.emit("hello", 1, {"x": "é"}, b"\x00\xff")
        await emitter.to("r").emit("to-r")
        await emitter.except_("r").emit("not-r")
        await emitter.of("/").to(a.id).emit("to-a")
        for peer in (a, b):
            assert await peer.wait_events("hello", 1) == [(1, {"x": "é"}, b"\x00\xff")]
        assert await b.wait_events("to-r", 1) == [()]
        assert await a.wait_events("not-r", 1) == [()]
        assert await a.wait_events("to-a", 1) == [()]
        await emitter.to(a.id).sockets_join("joined")
        await settle(0.3)
        assert "joined" in (await a.ctl("whoami"))["rooms"]
        await emitter.to("joined").sockets_leave("joined")
        await emitter.server_side_emit("note", "from-emitter")
        await settle(0.3)
        assert "joined" not in (await a.ctl("whoami"))["rooms"]
        for peer in (a, b):
            assert ["note", "from-emitter"] in await peer.ctl("sse_seen")
        await emitter.to("r").disconnect_sockets()
        await settle(0.5)
        assert not b.socket.connected
        assert a.socket.connected
        with pytest.raises(ValueError, match="reserved"):
            await emitter.emit("connect")
    finally:
        await client.aclose()
    await settle(0.2)
    assert a.events("to-r") == b.events("not-r") == b.events("to-a") == []


async def test_hostile_entries_and_messages_are_dropped(
    cluster: Cluster, peers: Peers, redis_url: str, cluster_key: str
) -> None:
    nodes = cluster("siox", "siox", adapter="streams")
    a, b = await peers(nodes[0]), await peers(nodes[1])
    client = aioredis.Redis.from_url(redis_url)
    entries: list[dict[str, str | bytes]] = [
        {"junk": "1"},
        {"uid": "x", "nsp": "/", "type": "3", "data": "{not json"},
        {"uid": "x", "nsp": "/", "type": "3", "data": "!!not base64!!"},
        {"uid": "x", "nsp": "/", "type": "3", "data": base64.b64encode(b"\xc1").decode()},
        {"uid": "x", "nsp": "/", "type": "nine", "data": "{}"},
        {"uid": "x", "nsp": "/", "type": "3", "data": '{"packet":{"type":2,"data":[]},"opts":{}}'},
        {"uid": "x", "nsp": "/", "type": "4", "data": '{"opts":{"rooms":[]},"rooms":[1.5,{}]}'},
        {"uid": "x", "nsp": "/", "type": "42", "data": '{"a":1}'},
        {"uid": "x", "nsp": "/", "type": "3", "data": "[" * 5000 + "]" * 5000},
    ]
    try:
        for entry in entries:
            await client.xadd(cluster_key, entry)
        for message in (b"\xc1", b"\x93\x01\x02\x03", b"\x81\xa3uid\xa1x", b"{}"):
            await client.publish(f"{cluster_key}#/#", message)
    finally:
        await client.aclose()
    await a.ctl("emit", event="still-here")
    assert await b.wait_events("still-here", 1) == [()]
    assert await b.ctl("count") == 2
    await settle(0.2)
    assert [name for name, _ in b.received] == ["still-here"]


async def test_a_node_that_comes_later_does_not_replay_older_entries(
    cluster: Cluster, peers: Peers
) -> None:
    (first,) = cluster("siox", adapter="streams")
    a = await peers(first)
    await a.ctl("emit", event="old")
    assert await a.wait_events("old", 1) == [()]
    (second,) = cluster("siox", adapter="streams")
    b = await peers(second)
    await a.ctl("emit", event="new")
    assert await b.wait_events("new", 1) == [()]
    await settle(0.2)
    assert [name for name, _ in b.received] == ["new"]


async def test_several_namespaces_share_one_stream_reader_and_get_each_entry_once(
    redis_url: str, cluster_key: str
) -> None:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    sender, receiver = (
        siox.Server(
            adapter=redis_streams_adapter(c, stream_name=cluster_key, channel_prefix=cluster_key)
        )
        for c in clients
    )
    for server in (sender, receiver):
        server.of("/chat")  # a second namespace, its adapter started alongside "/"
    received: list[tuple[Any, ...]] = []
    try:
        await sender.server_count()
        await receiver.server_count()
        async with siox.serve(receiver, host="127.0.0.1", port=0, shutdown_timeout=1.0) as serving:
            peer = siox.Client(f"http://127.0.0.1:{serving.port}", reconnection=False)
            chat = peer.socket("/chat")
            chat.on_any(lambda *args: received.append(args))
            await chat.connect(timeout=5.0)
            await sender.of("/chat").emit("hello", 1)
            await sender.emit("main-only", 2)
            for _ in range(100):
                if received:
                    break
                await settle(0.05)
            await settle(0.3)
            await peer.close()
        assert received == [("hello", 1)]
        for server in (sender, receiver):
            for namespace in ("/", "/chat"):
                await server.of(namespace).adapter.close()
    finally:
        await clients[0].delete(cluster_key)
        for client in clients:
            await client.aclose()


def test_a_namespace_picks_its_stream_as_npm_does_negative_hashes_included() -> None:
    # values printed by npm @socket.io/redis-streams-adapter 0.3's computeStreamName
    assert stream_for("/", "s", 1) == "s"
    assert [stream_for(nsp, "s", 3) for nsp in ("/", "/chat", "/\U0001f600", "/zzzzzzzz")] == [
        "s-2",
        "s-1",
        "s-0",
        "s--1",
    ]
    assert stream_for("/abcdefgh", "s", 7) == "s-0"  # JavaScript's -0 prints as 0


@pytest.mark.interop
@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_stream_for_agrees_with_npm_hash_code_on_many_namespaces() -> None:
    rng = random.Random(7)
    alphabet = "abcXYZ09-_/é中\U0001f600"
    names = [
        "/" + "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))) for _ in range(300)
    ]
    script = (
        'const {hashCode} = require("@socket.io/redis-streams-adapter/dist/util");'
        "const names = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(names.map((n) => [3, 5, 16].map((c) => "
        "'s-' + (hashCode(n) % c)))));"
    )
    done = subprocess.run(
        ["node", "-e", script], input=json.dumps(names), capture_output=True, text=True,
        cwd=NODE_DIR, timeout=60, check=True,
    )  # fmt: skip
    expected = json.loads(done.stdout)
    assert [[stream_for(n, "s", c) for c in (3, 5, 16)] for n in names] == expected


@pytest.mark.parametrize("kinds", KINDS)
async def test_with_three_streams_the_main_namespace_writes_to_its_own_stream_only(
    cluster: Cluster, peers: Peers, redis_url: str, cluster_key: str, kinds: tuple[str, str]
) -> None:
    nodes = cluster(*kinds, adapter="streams-sharded")  # npm's streamCount 3, useShardedPubSub
    a, b = await peers(nodes[0]), await peers(nodes[1])
    await a.ctl("emit", event="from-a")
    await b.ctl("emit", event="from-b")
    for peer in (a, b):
        assert await peer.wait_events("from-a", 1) == [()]
        assert await peer.wait_events("from-b", 1) == [()]
    client = aioredis.Redis.from_url(redis_url)
    try:
        home = stream_for("/", cluster_key, 3)
        assert home == f"{cluster_key}-2"
        assert await client.xlen(home) == 2  # one broadcast from each node
        assert not await client.exists(cluster_key, f"{cluster_key}-0", f"{cluster_key}-1")
        shard_subscribers = await client.execute_command(
            "PUBSUB", "SHARDNUMSUB", f"{cluster_key}#/#"
        )
        assert int(shard_subscribers[1]) == 2  # both nodes, through SSUBSCRIBE
        assert (await client.pubsub_numsub(f"{cluster_key}#/#"))[0][1] == 0
    finally:
        await client.aclose()
