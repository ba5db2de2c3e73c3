"""``workers=2`` against the real socket.io-client (4.8 and 2.5, through Node): sessions work
whatever worker a request lands on, and the workers form one cluster without Redis."""

from __future__ import annotations

import shutil
import uuid
from typing import Any

import pytest

from cluster.redis_server import find_or_start_redis
from siox.workers.ids import owner_of
from workers.procs import WorkersServer, node_scenario

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js"),
]


def grew(before: list[dict[str, Any]], after: list[dict[str, Any]], key: str) -> list[int]:
    return [a[key] - b[key] for b, a in zip(before, after, strict=True)]


async def test_polling_sessions_of_each_worker_are_served_whatever_worker_accepts(
    server: WorkersServer,
) -> None:
    before = await server.wait_workers()
    result = node_scenario(server.url, "sessions")
    after = await server.stats()
    # one session per worker, each id naming its owner, 100 round trips each (checked in Node)
    assert {owner_of(sid) for sid in result["sids"].values()} == {0, 1}
    assert result["transport"] == ["polling", "polling"]
    # No keep-alive: each request is a new connection, accepted by either worker. Both workers
    # took requests of the other's session and handed them over; both also served requests of
    # their own session that they accepted themselves. (The stats session adds a handful.)
    handed_out, handed_in = grew(before, after, "handed_out"), grew(before, after, "handed_in")
    own = grew(before, after, "own_requests")
    assert min(handed_out) >= 10, (before, after)
    assert handed_in == handed_out[::-1]
    assert all(mine - given >= 10 for mine, given in zip(own, handed_in, strict=True)), after
    assert [item["handoff_failures"] for item in after] == [0, 0]


async def test_upgrade_to_websocket_works_for_sessions_of_both_workers(
    server: WorkersServer,
) -> None:
    await server.wait_workers()
    assert node_scenario(server.url, "upgrade")["transports"] == ["websocket", "websocket"]


async def test_a_v2_client_polls_sessions_of_both_workers(server: WorkersServer) -> None:
    await server.wait_workers()
    assert node_scenario(server.url, "v2")["workers"] == [0, 1]


async def test_room_broadcasts_acks_and_fetch_sockets_span_both_workers(
    server: WorkersServer,
) -> None:
    await server.wait_workers()
    result = node_scenario(server.url, "room")
    assert result["news"] == ["hello", "hello"]  # a room broadcast reached both workers
    assert result["replies"] == result["ids"]  # a broadcast with acks got both replies
    assert result["fetched"] == result["ids"]  # fetch_sockets saw the other worker's socket


async def test_with_a_redis_adapter_configured_the_workers_use_it() -> None:
    import redis.asyncio as aioredis

    url, started = find_or_start_redis()
    key = f"siox-test-workers-{uuid.uuid4().hex[:12]}"
    server = WorkersServer(2, url, key).start()
    client = aioredis.Redis.from_url(url)
    try:
        await server.wait_workers()
        # both workers subscribe to the namespace's request channel through Redis
        assert await client.pubsub_numsub(f"{key}-request#/#") == [
            (f"{key}-request#/#".encode(), 2)
        ]
        result = node_scenario(server.url, "room")
        assert result["news"] == ["hello", "hello"]
        assert result["replies"] == result["fetched"] == result["ids"]
    finally:
        await client.aclose()
        server.stop()
        if started is not None:
            started.stop()


async def test_handoffs_work_on_asyncio_s_own_loop_too() -> None:
    server = WorkersServer(2, loop="asyncio").start()
    try:
        before = await server.wait_workers()
        result = node_scenario(server.url, "sessions")
        after = await server.stats()
        assert {owner_of(sid) for sid in result["sids"].values()} == {0, 1}
        assert min(grew(before, after, "handed_in")) >= 10
    finally:
        server.stop()
