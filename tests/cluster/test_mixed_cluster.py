"""A siox node and a Node socket.io 4.8 node (npm @socket.io/redis-adapter 8.3) in one cluster."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from cluster.nodes import NODE_DIR, Node, Peer, settle
from siox.adapters.redis import RedisEmitter

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js"),
]

Cluster = Callable[..., list[Node]]
Peers = Callable[[Node], Awaitable[Peer]]


async def mixed(cluster: Cluster, peers: Peers) -> tuple[list[Node], Peer, Peer]:
    nodes = cluster("siox", "node")
    return nodes, await peers(nodes[0]), await peers(nodes[1])


async def test_the_nodes_count_each_other(cluster: Cluster, peers: Peers) -> None:
    _, py, js = await mixed(cluster, peers)
    assert await py.ctl("count") == 2
    assert await js.ctl("count") == 2


async def test_broadcasts_from_either_reach_clients_of_both(cluster: Cluster, peers: Peers) -> None:
    _, py, js = await mixed(cluster, peers)
    await js.ctl("join", room="r")
    await py.ctl("emit", event="from-py", args=[1, "é", {"k": [True, None]}, b"\x00\x01"])
    await js.ctl("emit", event="from-js", args=[2.5, "x"])
    for peer in (py, js):
        assert await peer.wait_events("from-py", 1) == [(1, "é", {"k": [True, None]}, b"\x00\x01")]
        assert await peer.wait_events("from-js", 1) == [(2.5, "x")]
    await py.ctl("emit", rooms=["r"], event="py-to-r")
    await js.ctl("emit", **{"except": ["r"]}, event="js-not-r")
    await py.ctl("emit", rooms=[js.id], event="py-to-js-socket")
    await js.ctl("emit", rooms=[py.id], event="js-to-py-socket")
    assert await js.wait_events("py-to-r", 1) == [()]
    assert await py.wait_events("js-not-r", 1) == [()]
    assert await js.wait_events("py-to-js-socket", 1) == [()]
    assert await py.wait_events("js-to-py-socket", 1) == [()]
    await settle()
    assert py.events("py-to-r") == js.events("js-not-r") == []


async def test_broadcast_acks_cross_both_ways(cluster: Cluster, peers: Peers) -> None:
    _, py, js = await mixed(cluster, peers)
    expected = {"replies": ["answer:n0", "answer:n1"], "missing": 0}
    # by_socket knows siox's own sockets only: the Node adapter sends no socket ids
    assert await py.ctl("emit_ack", event="ask", timeout=3.0) == expected | {"by_socket": [py.id]}
    assert await js.ctl("emit_ack", event="ask", timeout=3.0) == expected


async def test_fetch_sockets_and_remote_operations_work_both_ways(
    cluster: Cluster, peers: Peers
) -> None:
    _, py, js = await mixed(cluster, peers)
    await py.ctl("set_data", data={"who": "py"})
    await js.ctl("set_data", data={"who": "js"})
    await js.ctl("join", room="r")
    from_py = await py.ctl("fetch")
    from_js = await js.ctl("fetch")
    for fetched in (from_py, from_js):
        assert [s["id"] for s in fetched] == sorted([py.id, js.id])
        by_id = {s["id"]: s for s in fetched}
        assert by_id[py.id]["data"] == {"who": "py"}
        assert by_id[js.id]["data"] == {"who": "js"}
        assert by_id[js.id]["rooms"] == sorted([js.id, "r"])
        assert by_id[py.id]["address"] == by_id[js.id]["address"] == "127.0.0.1"
    assert {s["id"]: s["remote"] for s in from_py} == {py.id: False, js.id: True}
    assert {s["id"]: s["remote"] for s in from_js} == {py.id: True, js.id: False}
    assert await py.ctl("remote", id=js.id, action="emit", event="hey", args=[1])
    assert await js.ctl("remote", id=py.id, action="emit", event="hey", args=[2])
    assert await js.wait_events("hey", 1) == [(1,)]
    assert await py.wait_events("hey", 1) == [(2,)]
    assert await js.ctl("remote", id=py.id, action="join", room="from-js")
    await settle()
    assert [s["id"] for s in await py.ctl("fetch", rooms=["from-js"])] == [py.id]
    assert await py.ctl("remote", id=js.id, action="join", room="from-py")
    await settle()
    assert [s["id"] for s in await js.ctl("fetch", rooms=["from-py"])] == [js.id]


async def test_bulk_operations_cross_both_ways(cluster: Cluster, peers: Peers) -> None:
    _, py, js = await mixed(cluster, peers)
    await py.ctl("join_all", room="a")
    await js.ctl("join_all", room="b")
    await settle()
    for peer in (py, js):
        assert [s["id"] for s in await peer.ctl("fetch", rooms=["a"])] == sorted([py.id, js.id])
        assert [s["id"] for s in await peer.ctl("fetch", rooms=["b"])] == sorted([py.id, js.id])
    await js.ctl("leave_all", room="a")
    await settle()
    assert await py.ctl("fetch", rooms=["a"]) == []
    await py.ctl("disconnect_all", rooms=[js.id])
    await settle()
    assert [s["id"] for s in await py.ctl("fetch")] == [py.id]


async def test_server_side_emits_with_acks_cross_both_ways(cluster: Cluster, peers: Peers) -> None:
    _, py, js = await mixed(cluster, peers)
    await py.ctl("sse", event="note", args=["from", "py"])
    await js.ctl("sse", event="note", args=["from", "js"])
    assert await py.ctl("sse_ack", event="ping", args=[3], timeout=3.0) == {
        "replies": ["pong:n1:3"],
        "missing": 0,
    }
    assert await js.ctl("sse_ack", event="ping", args=[4], timeout=3.0) == {
        "replies": ["pong:n0:4"],
        "missing": 0,
    }
    assert await js.ctl("sse_seen") == [["note", "from", "py"], ["ping", 3]]
    assert await py.ctl("sse_seen") == [["note", "from", "js"], ["ping", 4]]


async def test_the_npm_emitter_reaches_siox_clients_and_siox_emitter_node_clients(
    cluster: Cluster, peers: Peers, redis_url: str, cluster_key: str
) -> None:
    _, py, js = await mixed(cluster, peers)
    await py.ctl("join", room="r")
    command = ["node", str(NODE_DIR / "cluster_emit.js"), redis_url, cluster_key, "/"]
    for room, event in (("", "npm-all"), ("r", "npm-r")):
        process = await asyncio.create_subprocess_exec(
            *command, room, event, '[1, "x"]', cwd=NODE_DIR
        )
        try:
            assert await asyncio.wait_for(process.wait(), 20) == 0
        finally:
            if process.returncode is None:
                process.kill()  # this process only, by its PID
                await process.wait()
    assert await py.wait_events("npm-all", 1) == [(1, "x", b"\x01\x02\x03")]
    assert await js.wait_events("npm-all", 1) == [(1, "x", b"\x01\x02\x03")]
    assert await py.wait_events("npm-r", 1) == [(1, "x")]
    client = aioredis.Redis.from_url(redis_url)
    try:
        emitter = RedisEmitter(client, key=cluster_key)
        await emitter.emit("siox-all", b"\xff", {"n": 1})
        await emitter.to(js.id).emit("siox-to-js")
    finally:
        await client.aclose()
    for peer in (py, js):
        assert await peer.wait_events("siox-all", 1) == [(b"\xff", {"n": 1})]
    assert await js.wait_events("siox-to-js", 1) == [()]
    await settle()
    assert js.events("npm-r") == py.events("siox-to-js") == []
