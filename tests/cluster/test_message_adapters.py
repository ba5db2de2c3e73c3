"""The sharded and streams adapters: two nodes (siox + siox, siox + Node socket.io 4.8 with the
npm adapter) on one Redis, every cluster-wide operation in both directions (the streams adapter
also spread over three streams with sharded Pub/Sub)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable

import pytest

from cluster.nodes import Node, Peer, settle

pytestmark = pytest.mark.cluster

Cluster = Callable[..., list[Node]]
Peers = Callable[..., Awaitable[Peer]]

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
PAIRS = [
    pytest.param(("siox", "siox"), id="siox+siox"),
    pytest.param(("siox", "node"), id="siox+node", marks=[needs_node, pytest.mark.interop]),
]
#: streams-sharded: the streams adapter with npm's streamCount 3 and useShardedPubSub on both sides
ADAPTERS = ["sharded", "streams", "streams-sharded"]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("kinds", PAIRS)
async def test_two_nodes_are_one_cluster_in_both_directions(
    cluster: Cluster, peers: Peers, adapter: str, kinds: tuple[str, str]
) -> None:
    nodes = cluster(*kinds, adapter=adapter)
    a, b = await peers(nodes[0]), await peers(nodes[1])
    assert await a.ctl("count") == await b.ctl("count") == 2

    # broadcasts, rooms (a room's own channel in dynamic mode), except, socket ids, binary
    await b.ctl("join", room="room-r")
    await a.ctl("emit", event="all", args=[1, "é", {"k": [True, None]}, b"\x00\x01"])
    await b.ctl("emit", event="all-b", args=[2.5])
    await a.ctl("emit", rooms=["room-r"], event="to-r")
    await b.ctl("emit", **{"except": ["room-r"]}, event="not-r")
    await a.ctl("emit", rooms=[b.id], event="to-b")
    await b.ctl("emit", rooms=[a.id], event="to-a")
    for peer in (a, b):
        assert await peer.wait_events("all", 1) == [(1, "é", {"k": [True, None]}, b"\x00\x01")]
        assert await peer.wait_events("all-b", 1) == [(2.5,)]
    assert await b.wait_events("to-r", 1) == [()]
    assert await a.wait_events("not-r", 1) == [()]
    assert await b.wait_events("to-b", 1) == [()]
    assert await a.wait_events("to-a", 1) == [()]

    # broadcast acks, both ways
    answers = ["answer:n0", "answer:n1"]
    reply = await a.ctl("emit_ack", event="ask", timeout=3.0)
    assert (reply["replies"], reply["missing"]) == (answers, 0)
    # socket ids travel between siox nodes only (in a field the npm adapters ignore)
    assert reply["by_socket"] == sorted([a.id, b.id] if kinds[1] == "siox" else [a.id])
    reply = await b.ctl("emit_ack", event="ask", timeout=3.0)
    assert (reply["replies"], reply["missing"]) == (answers, 0)

    # fetch_sockets and a remote operation, both ways
    await a.ctl("set_data", data={"who": "a"})
    for asker, other in ((a, b), (b, a)):
        fetched = {s["id"]: s for s in await asker.ctl("fetch")}
        assert sorted(fetched) == sorted([a.id, b.id])
        assert fetched[a.id]["data"] == {"who": "a"}
        assert fetched[b.id]["rooms"] == sorted([b.id, "room-r"])
        assert fetched[other.id]["remote"] is True
        assert await asker.ctl("remote", id=other.id, action="emit", event="poke") is True
        assert await other.wait_events("poke", 1) == [()]
        other.received.clear()

    # server-side emits, with and without acks, both ways
    reply = await a.ctl("sse_ack", event="ping", args=[7], timeout=3.0)
    assert (reply["replies"], reply["missing"]) == (["pong:n1:7"], 0)
    reply = await b.ctl("sse_ack", event="ping", args=[8], timeout=3.0)
    assert (reply["replies"], reply["missing"]) == (["pong:n0:8"], 0)
    await a.ctl("sse", event="note", args=["x"])
    await settle()
    assert ["note", "x"] in await b.ctl("sse_seen")

    # bulk operations
    await a.ctl("join_all", room="everyone")
    await settle(0.2)
    assert "everyone" in (await b.ctl("whoami"))["rooms"]
    await b.ctl("leave_all", room="everyone")
    await settle(0.2)
    assert "everyone" not in (await a.ctl("whoami"))["rooms"]
    await a.ctl("disconnect_all", rooms=[b.id])
    for _ in range(50):
        if not b.socket.connected:
            break
        await settle(0.1)
    assert not b.socket.connected
    assert a.socket.connected


@pytest.mark.parametrize("adapter", ["sharded", "sharded-static", "sharded-private", *ADAPTERS[1:]])
@pytest.mark.parametrize("kinds", PAIRS)
async def test_a_room_broadcast_reaches_exactly_its_members(
    cluster: Cluster, peers: Peers, adapter: str, kinds: tuple[str, str]
) -> None:
    nodes = cluster(*kinds, adapter=adapter)
    a, b = await peers(nodes[0]), await peers(nodes[1])
    await b.ctl("join", room="r")
    await b.ctl("join", room="x" * 20)  # as long as a socket id: the namespace channel
    await a.ctl("join", room="q")
    for sender in (a, b):
        await sender.ctl("emit", rooms=["r"], event="to-r")
        await sender.ctl("emit", rooms=["x" * 20], event="to-x")
        await sender.ctl("emit", rooms=[b.id], event="to-b")
        await sender.ctl("emit", rooms=["q"], event="to-q")
        await sender.ctl("emit", rooms=[a.id], event="to-a")
    assert await b.wait_events("to-r", 2) == [(), ()]
    assert await b.wait_events("to-x", 2) == [(), ()]
    assert await b.wait_events("to-b", 2) == [(), ()]
    assert await a.wait_events("to-q", 2) == [(), ()]
    assert await a.wait_events("to-a", 2) == [(), ()]
    await settle()
    assert b.events("to-q") == b.events("to-a") == []
    assert a.events("to-r") == a.events("to-x") == a.events("to-b") == []


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_a_node_killed_during_a_numbered_broadcast_costs_the_others_nothing(
    cluster: Cluster, peers: Peers, adapter: str
) -> None:
    nodes = cluster("siox", "siox", "siox", adapter=adapter)
    a, b, _c = [await peers(node) for node in nodes]
    assert await a.ctl("count") == 3
    asyncio.get_running_loop().call_later(0.3, nodes[2].stop, True)  # SIGKILL mid-stream
    assert await a.ctl("numbered", event="n", count=1000) == 1000
    for peer in (a, b):
        numbers = [args[0] for args in await peer.wait_events("n", 1000)]
        assert numbers == list(range(1000))  # nothing missed, nothing twice, in order
    assert await a.ctl("count") == 2


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_a_node_that_does_not_answer_gives_partial_results_at_the_timeout(
    cluster: Cluster, peers: Peers, adapter: str
) -> None:
    nodes = cluster("siox", "siox", "siox", adapter=adapter)
    a, b, _c = [await peers(node) for node in nodes]
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
