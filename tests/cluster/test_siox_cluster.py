"""Three siox nodes (separate processes) on one Redis: every cluster-wide operation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from cluster.nodes import Node, Peer, settle
from siox.adapters.redis import RedisEmitter

pytestmark = pytest.mark.cluster

Cluster = Callable[..., list[Node]]
Peers = Callable[[Node], Awaitable[Peer]]


async def three(cluster: Cluster, peers: Peers) -> tuple[list[Node], list[Peer]]:
    nodes = cluster("siox", "siox", "siox")
    return nodes, [await peers(node) for node in nodes]


async def test_a_broadcast_reaches_the_clients_of_every_node(
    cluster: Cluster, peers: Peers
) -> None:
    _, (a, b, c) = await three(cluster, peers)
    await a.ctl("emit", event="news", args=[1, {"x": "é"}, b"\x00\xffbin"])
    for peer in (a, b, c):
        assert await peer.wait_events("news", 1) == [(1, {"x": "é"}, b"\x00\xffbin")]


async def test_rooms_and_except_select_across_nodes(cluster: Cluster, peers: Peers) -> None:
    _, (a, b, c) = await three(cluster, peers)
    await b.ctl("join", room="r1")
    await c.ctl("join", room="r1")
    await c.ctl("join", room="quiet")
    await a.ctl("emit", rooms=["r1"], event="in-r1")
    await a.ctl("emit", rooms=["r1"], **{"except": ["quiet"]}, event="r1-not-quiet")
    await b.ctl("emit", rooms=[c.id], event="to-c")
    assert await b.wait_events("in-r1", 1) == [()]
    assert await c.wait_events("in-r1", 1) == [()]
    assert await b.wait_events("r1-not-quiet", 1) == [()]
    assert await c.wait_events("to-c", 1) == [()]
    await settle()
    assert a.events("in-r1") == []
    assert c.events("r1-not-quiet") == []
    assert a.events("to-c") == b.events("to-c") == []


async def test_a_local_broadcast_stays_on_its_node(cluster: Cluster, peers: Peers) -> None:
    _, (a, b, _c) = await three(cluster, peers)
    await a.ctl("emit", local=True, event="here")
    assert await a.wait_events("here", 1) == [()]
    await settle()
    assert b.events("here") == []


async def test_broadcast_acks_are_gathered_from_every_node(cluster: Cluster, peers: Peers) -> None:
    _, (a, b, c) = await three(cluster, peers)
    result = await a.ctl("emit_ack", event="ask", timeout=3.0)
    assert result == {
        "replies": ["answer:n0", "answer:n1", "answer:n2"],
        "missing": 0,
        "by_socket": sorted([a.id, b.id, c.id]),  # siox nodes send their sockets' ids
    }
    await b.ctl("join", room="r")
    result = await c.ctl("emit_ack", rooms=["r"], event="ask", timeout=3.0)
    assert result == {"replies": ["answer:n1"], "missing": 0, "by_socket": [b.id]}


async def test_missing_broadcast_acks_are_counted_on_every_node(
    cluster: Cluster, peers: Peers
) -> None:
    _, (a, _b, _c) = await three(cluster, peers)
    started = time.monotonic()
    result = await a.ctl("emit_ack", event="unanswered", timeout=1.0)  # clients never ack it
    assert result == {"replies": [], "missing": 3, "by_socket": []}
    assert 0.9 < time.monotonic() - started < 3.0


async def test_fetch_sockets_returns_remote_sockets_that_can_be_operated_on(
    cluster: Cluster, peers: Peers
) -> None:
    _, (a, b, c) = await three(cluster, peers)
    await b.ctl("set_data", data={"user": "bob"})
    await b.ctl("join", room="r")
    fetched = await a.ctl("fetch")
    assert [s["id"] for s in fetched] == sorted([a.id, b.id, c.id])
    remote_b = next(s for s in fetched if s["id"] == b.id)
    assert remote_b["remote"] is True
    assert remote_b["rooms"] == sorted([b.id, "r"])
    assert remote_b["data"] == {"user": "bob"}
    assert remote_b["address"] == "127.0.0.1"
    assert [s["id"] for s in await a.ctl("fetch", rooms=["r"])] == [b.id]
    assert await a.ctl("remote", id=b.id, action="emit", event="direct", args=["hi"])
    assert await b.wait_events("direct", 1) == [("hi",)]
    assert await a.ctl("remote", id=c.id, action="join", room="joined")
    assert [s["id"] for s in await b.ctl("fetch", rooms=["joined"])] == [c.id]
    assert await a.ctl("remote", id=c.id, action="leave", room="joined")
    assert await b.ctl("fetch", rooms=["joined"]) == []
    assert await a.ctl("remote", id=c.id, action="disconnect")
    assert [s["id"] for s in await b.ctl("fetch")] == sorted([a.id, b.id])


async def test_a_remote_socket_whose_data_json_cannot_carry_is_fetched_without_it(
    cluster: Cluster, peers: Peers
) -> None:
    _, (a, b, _c) = await three(cluster, peers)
    await b.ctl("set_data", data={"blob": b"\x00"})
    fetched = {s["id"]: s for s in await a.ctl("fetch")}
    assert fetched[b.id]["data"] == {}
    assert fetched[b.id]["rooms"] == [b.id]


async def test_server_side_emit_reaches_every_other_node_with_acks(
    cluster: Cluster, peers: Peers
) -> None:
    _, (a, b, c) = await three(cluster, peers)
    await a.ctl("sse", event="note", args=["hello", 2])
    result = await a.ctl("sse_ack", event="ping", args=[7], timeout=3.0)
    assert result == {"replies": ["pong:n1:7", "pong:n2:7"], "missing": 0}
    assert await a.ctl("sse_seen") == []
    for peer in (b, c):
        assert await peer.ctl("sse_seen") == [["note", "hello", 2], ["ping", 7]]


async def test_sockets_join_leave_and_disconnect_act_on_every_node(
    cluster: Cluster, peers: Peers
) -> None:
    _, (a, b, c) = await three(cluster, peers)
    await c.ctl("join", room="keep")
    await a.ctl("join_all", room="all")
    await settle()
    assert [s["id"] for s in await b.ctl("fetch", rooms=["all"])] == sorted([a.id, b.id, c.id])
    await b.ctl("leave_all", rooms=["keep"], room="all")
    await settle()
    assert [s["id"] for s in await a.ctl("fetch", rooms=["all"])] == sorted([a.id, b.id])
    await a.ctl("disconnect_all", rooms=["keep"])
    await settle()
    assert [s["id"] for s in await b.ctl("fetch")] == sorted([a.id, b.id])


async def test_server_count_drops_a_killed_node_and_requests_give_partial_results(
    cluster: Cluster, peers: Peers
) -> None:
    nodes, (a, b, _c) = await three(cluster, peers)
    assert await a.ctl("count") == 3
    await b.ctl("join", room="r")
    nodes[2].stop(kill=True)  # SIGKILL: Redis drops its subscriptions with its connection
    await settle(0.5)
    assert await a.ctl("count") == 2
    assert [s["id"] for s in await a.ctl("fetch")] == sorted([a.id, b.id])
    nodes[1].stop(kill=True)
    await settle(0.5)
    assert await a.ctl("count") == 1
    assert [s["id"] for s in await a.ctl("fetch")] == [a.id]


async def test_a_node_killed_during_a_numbered_broadcast_costs_the_others_nothing(
    cluster: Cluster, peers: Peers
) -> None:
    nodes, (a, b, _c) = await three(cluster, peers)
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, nodes[2].stop, True)  # SIGKILL mid-stream
    assert await a.ctl("numbered", event="n", count=1000) == 1000
    for peer in (a, b):
        numbers = [args[0] for args in await peer.wait_events("n", 1000)]
        assert numbers == list(range(1000))  # nothing missed, nothing twice, in order
    assert await a.ctl("count") == 2


async def test_requests_to_a_node_that_does_not_answer_give_partial_results_at_the_timeout(
    cluster: Cluster, peers: Peers
) -> None:
    nodes, (a, b, _c) = await three(cluster, peers)
    nodes[2].pause()  # still subscribed (counted), but answers nothing
    try:
        started = time.monotonic()
        assert [s["id"] for s in await a.ctl("fetch")] == sorted([a.id, b.id])
        assert 1.4 < time.monotonic() - started < 4.0  # the nodes' requests timeout is 1.5 s
        result = await a.ctl("sse_ack", event="ping", args=[1], timeout=1.0)
        assert result == {"replies": ["pong:n1:1"], "missing": 1}
        result = await a.ctl("emit_ack", event="ask", timeout=1.0)
        assert result["replies"] == ["answer:n0", "answer:n1"]
    finally:
        nodes[2].stop(kill=True)


async def test_the_redis_emitter_reaches_clients_of_every_node(
    cluster: Cluster, peers: Peers, redis_url: str, cluster_key: str
) -> None:
    _, (a, b, c) = await three(cluster, peers)
    await c.ctl("join", room="r")
    client = aioredis.Redis.from_url(redis_url)
    try:
        emitter = RedisEmitter(client, key=cluster_key)
        await emitter.emit("from-emitter", b"\x01", [None, 1.5])
        await emitter.to("r").emit("to-r")
        await emitter.except_("r").emit("not-r")
        await emitter.server_side_emit("note", "cron")
        await emitter.sockets_join("everyone")
    finally:
        await client.aclose()
    for peer in (a, b, c):
        assert await peer.wait_events("from-emitter", 1) == [(b"\x01", [None, 1.5])]
    assert await c.wait_events("to-r", 1) == [()]
    assert await a.wait_events("not-r", 1) == [()]
    await settle()
    assert a.events("to-r") == c.events("not-r") == []
    assert await a.ctl("sse_seen") == [["note", "cron"]]
    assert len(await b.ctl("fetch", rooms=["everyone"])) == 3
