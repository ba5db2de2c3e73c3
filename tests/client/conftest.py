"""Fixtures of the client tests: Node and siox peers (see `client.peers`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from client.peers import NodePeer, SioxPeer, shared_node


@pytest.fixture(scope="session")
def node_peers() -> Iterator[dict[tuple[str, ...], NodePeer]]:
    """Node processes shared by the whole session, one per argument list (started lazily)."""
    peers: dict[tuple[str, ...], NodePeer] = {}
    yield peers
    for peer in peers.values():
        peer.stop_sync()


@pytest_asyncio.fixture(params=["node", "siox"])
async def peer(
    request: pytest.FixtureRequest, node_peers: dict[tuple[str, ...], NodePeer]
) -> AsyncIterator[NodePeer | SioxPeer]:
    """The default peer app, on Node and on siox."""
    if request.param == "node":
        yield shared_node(node_peers)
        return
    sioxpeer = SioxPeer()
    await sioxpeer.start()
    try:
        yield sioxpeer
    finally:
        await sioxpeer.stop()


@pytest_asyncio.fixture(params=["node", "siox"])
async def own_peer(request: pytest.FixtureRequest) -> AsyncIterator[NodePeer | SioxPeer]:
    """A peer of the test's own (to restart or stop), recovery on; Node or siox."""
    peer: NodePeer | SioxPeer
    peer = NodePeer("--recovery") if request.param == "node" else SioxPeer(recovery=True)
    await peer.start()
    try:
        yield peer
    finally:
        await peer.stop()


@pytest_asyncio.fixture(params=["node", "siox"])
async def recovery_peer(
    request: pytest.FixtureRequest, node_peers: dict[tuple[str, ...], NodePeer]
) -> AsyncIterator[NodePeer | SioxPeer]:
    """The peer app with connection state recovery on."""
    if request.param == "node":
        yield shared_node(node_peers, "--recovery")
        return
    sioxpeer = SioxPeer(recovery=True)
    await sioxpeer.start()
    try:
        yield sioxpeer
    finally:
        await sioxpeer.stop()


HERE = Path(__file__).resolve().parent


_PEER_PARAMS = {"peer", "own_peer", "recovery_peer", "custom_peer", "kind"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every client test that talks to Node is an interop test."""
    for item in items:
        if not item.path.is_relative_to(HERE):
            continue
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        kinds = {value for name, value in params.items() if name in _PEER_PARAMS}
        fixtures = getattr(item, "fixturenames", ())
        if "node" in kinds or (not kinds and "node_peers" in fixtures):
            item.add_marker(pytest.mark.interop)
