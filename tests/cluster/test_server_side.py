"""Server-side events between two servers in one process (no clients needed): handlers' replies,
and what a handler that fails, cannot be answered or does not exist costs (a missing reply)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

import siox
from siox.adapters.redis import redis_adapter

pytestmark = pytest.mark.cluster


@pytest.fixture
async def pair(redis_url: str, cluster_key: str) -> AsyncIterator[tuple[siox.Server, siox.Server]]:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    servers = tuple(
        siox.Server(adapter=redis_adapter(client, key=cluster_key, requests_timeout=1.0))
        for client in clients
    )
    first, second = servers
    try:
        for server in servers:
            await server.server_count()
        yield first, second
    finally:
        for server in servers:
            await server.shutdown(0.1)
        for client in clients:
            await client.aclose()


async def test_sync_and_async_handlers_reply_and_plain_emits_arrive(
    pair: tuple[siox.Server, siox.Server],
) -> None:
    first, second = pair
    seen: list[tuple[object, ...]] = []
    second.on_server_side("sum", lambda a, b: a + b)

    @second.on_server_side("later")
    async def later(x: int) -> dict[str, int]:
        await asyncio.sleep(0.01)
        return {"x": x}

    second.on_server_side("note", lambda *args: seen.append(args))
    assert await first.server_count() == await second.server_count() == 2
    assert (await first.timeout(2).server_side_emit_with_ack("sum", 2, 3)).replies == [5]
    assert (await first.timeout(2).server_side_emit_with_ack("later", 7)).replies == [{"x": 7}]
    await first.server_side_emit("note", "a", [1])
    for _ in range(50):
        if seen:
            break
        await asyncio.sleep(0.02)
    assert seen == [("a", [1])]


@pytest.mark.parametrize("event", ["raises", "unanswerable", "nobody-listens"])
async def test_a_handler_that_cannot_reply_counts_as_missing(
    pair: tuple[siox.Server, siox.Server], event: str, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = pair

    def raises() -> None:
        raise RuntimeError("handler bug")

    second.on_server_side("raises", raises)
    second.on_server_side("unanswerable", lambda: b"bytes do not travel as JSON")
    with caplog.at_level(logging.WARNING):
        results = await first.timeout(0.5).server_side_emit_with_ack(event)
    assert (results.replies, results.missing) == ([], 1)
    if event == "raises":
        assert any("server-side handler" in r.getMessage() for r in caplog.records)
    elif event == "unanswerable":
        assert any("reply not sent" in r.getMessage() for r in caplog.records)


async def test_server_side_emit_arguments_must_be_json(
    pair: tuple[siox.Server, siox.Server],
) -> None:
    first, _ = pair
    with pytest.raises(TypeError, match="JSON"):
        await first.server_side_emit("ev", b"binary")
