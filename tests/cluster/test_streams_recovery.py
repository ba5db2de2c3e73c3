"""Connection state recovery across nodes with the streams adapter: a client that drops from one
node and comes back through another gets its id, rooms, data and the packets it missed.

Nodes: siox and Node socket.io 4.8 (npm @socket.io/redis-streams-adapter 0.3) in every pairing;
clients: siox's and socket.io-client 4.8.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Awaitable, Callable

import pytest

import siox
from cluster.nodes import NODE_DIR, Node, Peer, settle

pytestmark = pytest.mark.cluster

Cluster = Callable[..., list[Node]]
Peers = Callable[..., Awaitable[Peer]]

needs_node = [pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")]
PAIRS = [
    pytest.param(("siox", "siox"), id="siox-to-siox"),
    pytest.param(("siox", "node"), id="siox-to-node", marks=[*needs_node, pytest.mark.interop]),
    pytest.param(("node", "siox"), id="node-to-siox", marks=[*needs_node, pytest.mark.interop]),
]


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)


def recovery_state(peer: Peer) -> tuple[bool, bool]:
    """Whether ``peer`` is connected, and whether its session was recovered."""
    return peer.socket.connected, peer.socket.recovered


@pytest.mark.parametrize("adapter", ["streams", "streams-sharded"])
@pytest.mark.parametrize("kinds", PAIRS)
async def test_a_siox_client_recovers_its_session_on_the_other_node(
    cluster: Cluster, peers: Peers, kinds: tuple[str, str], adapter: str
) -> None:
    first, second = cluster(*kinds, adapter=adapter, recovery=True)
    client = await peers(first, True)
    helper = await peers(second)
    await client.ctl("join", room="r")
    await client.ctl("set_data", data={"k": 1})
    await helper.ctl("emit", rooms=["r"], event="before", args=[1])
    assert [args[0] for args in await client.wait_events("before", 1)] == [1]
    first_id = client.id
    client.client.endpoint = siox.Client(second.url).endpoint  # a load balancer's choice
    await client.ctl("drop")
    await until(lambda: not client.socket.connected)
    assert not client.socket.connected
    await helper.ctl("emit", rooms=["r"], event="missed", args=[2])
    await helper.ctl("emit", event="missed-all", args=[3])
    await helper.ctl("emit", rooms=["elsewhere"], event="not-mine")
    await until(lambda: client.socket.connected)
    assert client.socket.recovered
    assert client.id == first_id
    assert [args[0] for args in await client.wait_events("missed", 1)] == [2]
    assert [args[0] for args in await client.wait_events("missed-all", 1)] == [3]
    server = await client.ctl("whoami")
    assert server == {"id": first_id, "rooms": sorted([first_id, "r"]), "data": {"k": 1},
                      "recovered": True}  # fmt: skip
    await settle(0.2)
    assert client.events("not-mine") == []
    assert len(client.events("missed")) == 1


@pytest.mark.interop
@pytest.mark.parametrize("kinds", PAIRS)
async def test_a_socket_io_client_recovers_its_session_on_the_other_node(
    cluster: Cluster, kinds: tuple[str, str]
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js")
    first, second = cluster(*kinds, adapter="streams", recovery=True)
    script = str(NODE_DIR / "cluster_recovery_client.js")
    process = await asyncio.create_subprocess_exec(
        node, script, first.url, second.url, cwd=NODE_DIR,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["reason"] == "transport close"
    assert result["recovered"] is True
    assert result["sameId"] is True
    names = [event[0] for event in result["events"]]
    assert names == ["before", "missed"]
    assert result["events"][1][1] == 2
    assert result["server"]["recovered"] is True
    assert "r" in result["server"]["rooms"]
    assert result["server"]["data"] == {"k": 1}


@pytest.mark.parametrize("adapter", ["classic", "sharded"])
async def test_with_classic_or_sharded_a_client_recovers_on_the_same_node_only(
    cluster: Cluster, peers: Peers, adapter: str
) -> None:
    first, second = cluster("siox", "siox", adapter=adapter, recovery=True)
    client = await peers(first, True)
    helper = await peers(second)
    await client.ctl("join", room="r")
    await helper.ctl("emit", rooms=["r"], event="before")
    await client.wait_events("before", 1)
    first_id = client.id
    # back to the same node: recovered, with what another node broadcast meanwhile
    await client.ctl("drop")
    await until(lambda: not client.socket.connected)
    await helper.ctl("emit", rooms=["r"], event="missed", args=[1])
    await until(lambda: client.socket.connected)
    assert client.socket.recovered
    assert client.id == first_id
    assert [args[0] for args in await client.wait_events("missed", 1)] == [1]
    # to the other node: a new session
    client.client.endpoint = siox.Client(second.url).endpoint
    await client.ctl("drop")
    await until(lambda: not client.socket.connected)
    await until(lambda: client.socket.connected)
    assert recovery_state(client) == (True, False)  # connected, not recovered
    assert client.id != first_id
