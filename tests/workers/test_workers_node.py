"""``workers=2`` against the real socket.io-client (4.8 and 2.5, through Node): sessions work
whatever worker a request lands on, and the workers form one cluster without Redis."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
import uuid
from typing import Any

import pytest

from cluster.redis_server import find_or_start_redis
from siox.workers.ids import node_of, owner_of
from workers.procs import RoundRobin, WorkersServer, exchange, get, node_scenario

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


async def test_two_machines_behind_a_balancer_without_stickiness_serve_polling_sessions() -> None:
    url, started = find_or_start_redis()
    key = f"siox-test-workers-{uuid.uuid4().hex[:12]}"
    machines = [WorkersServer(2, url, key).start(), WorkersServer(2, url, key).start()]
    balancer = await RoundRobin([machine.port for machine in machines]).start()
    try:
        for machine in machines:  # the four workers form one cluster over Redis
            deadline = time.monotonic() + 15
            while len(found := await stats_or_none(machine)) < 4:
                assert time.monotonic() < deadline, (found, machine.output())
                await asyncio.sleep(0.2)
        before = await machines[0].stats()
        # every request is a new connection, sent alternately to each machine
        result = await asyncio.to_thread(
            node_scenario, f"http://127.0.0.1:{balancer.port}", "sessions"
        )
        after = await machines[0].stats()
        nodes = {item["node"] for item in after}
        assert len(nodes) == 2  # two machines, four workers
        assert {node_of(sid) for sid in result["sids"].values()} <= nodes

        def total(stats: list[dict[str, Any]], key: str) -> int:
            return sum(item[key] for item in stats)

        # about half the requests reached the other machine: forwarded to the owner, answered
        assert total(after, "forwarded_out") - total(before, "forwarded_out") >= 20
        assert total(after, "forwarded_in") - total(before, "forwarded_in") >= 20
        # a session id naming a machine that does not exist: the 400 of an unknown session
        forged = "A" + "zzzz" + secrets.token_urlsafe(15)[5:]
        answer = await asyncio.to_thread(unknown_session_answer, machines[0].port, forged)
        assert answer == (400, b'{"code":1,"message":"Session ID unknown"}')
    finally:
        await balancer.close()
        for machine in machines:
            machine.stop()
        if started is not None:
            started.stop()


async def stats_or_none(server: WorkersServer) -> list[dict[str, Any]]:
    try:
        return await server.stats()
    except Exception:
        return []


def unknown_session_answer(port: int, sid: str) -> tuple[int, bytes]:
    return exchange(port, get(sid, port))
