"""The Admin UI's server side on a two-server cluster (one Redis): one UI sees every server.

Both servers are instrumented with their own server id and one `RedisStore`; the "UI" is a
siox client on the first server's admin namespace. It gets the sockets of both servers, the
``server_stats`` of both, its session works on the second server, and its operations reach a
socket held by the second server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

import siox
from rawpeer import running
from siox.adapters.redis import redis_adapter
from siox.admin import RedisStore

bcrypt = pytest.importorskip("bcrypt")
pytestmark = pytest.mark.cluster

HASH = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
AUTH = {"type": "basic", "username": "admin", "password": HASH}


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def until(check: Any, what: str) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"never: {what}")


async def test_one_ui_sees_and_operates_on_every_server(
    redis_url: str, cluster_key: str, redis_client: aioredis.Redis
) -> None:
    servers = []
    for name in ("node-a", "node-b"):
        client = aioredis.Redis.from_url(redis_url)
        sio = siox.Server(adapter=redis_adapter(client, key=cluster_key, requests_timeout=2.0))
        sio.instrument(
            auth=AUTH,
            server_id=name,
            store=RedisStore(redis_client, prefix=f"{cluster_key}-admin"),
            stats_interval=0.2,
        )
        servers.append((sio, client))
    (first, _), (second, _) = servers
    try:
        for sio, _ in servers:
            await sio.server_count()  # subscribed
        async with running(first) as port_a, running(second) as port_b:
            url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
            async with siox.connect(url_b, reconnection=False) as alice:
                ui = siox.Client(url_a, reconnection=False)
                admin = ui.socket("/admin", auth={"username": "admin", "password": "pw"})
                seen: dict[str, list[Any]] = {}
                for event in ("session", "config", "all_sockets", "server_stats"):
                    admin.on(event, lambda *args, e=event: seen.setdefault(e, []).append(args))
                await admin.connect()
                try:
                    await until(lambda: "all_sockets" in seen, "all_sockets")
                    sockets = seen["all_sockets"][0][0]
                    assert alice.id in {s["id"] for s in sockets}  # held by the other server
                    remote = next(s for s in sockets if s["id"] == alice.id)
                    assert remote["transport"] in ("polling", "websocket")
                    assert remote["clientId"] and "_admin" not in remote["data"]

                    def server_ids() -> set[str]:
                        return {args[0]["serverId"] for args in seen.get("server_stats", [])}

                    await until(lambda: server_ids() == {"node-a", "node-b"}, "both stats")

                    # the session id, kept in Redis, logs in on the other server too
                    (session,) = seen["session"][0]
                    async with siox.connect(
                        url_b, namespace="/admin", auth={"sessionId": session}, reconnection=False
                    ) as again:
                        assert again.connected

                    await admin.emit("join", "/", "vip", alice.id)
                    sid = alice.id
                    assert sid is not None
                    await until(lambda: "vip" in second.of("/").sockets[sid].rooms, "joined")
                    await admin.emit("emit", "/", "vip", "hello", 1)
                    assert await alice.wait_for("hello", timeout=5) == 1
                    await admin.emit("_disconnect", "/", False, alice.id)
                    await until(lambda: not alice.connected, "disconnected")
                finally:
                    await ui.close()
    finally:
        for sio, client in servers:
            await sio.shutdown(0.1)
            await client.aclose()


async def test_namespaces_subscribing_at_once_on_one_client_all_get_answers(
    redis_url: str, cluster_key: str
) -> None:
    # Two namespaces created together on one Redis client subscribe concurrently; each must
    # still hear the other server's replies (fetch_sockets answers). The admin namespace
    # created by instrument() next to "/" is such a case.
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    servers = [siox.Server(adapter=redis_adapter(c, key=cluster_key)) for c in clients]
    for sio in servers:
        sio.of("/second")  # subscribes while "/" is subscribing
    first, second = servers
    try:
        async with (
            running(second) as port,
            siox.connect(f"http://127.0.0.1:{port}", reconnection=False) as alice,
        ):
            found = await first.of("/").fetch_sockets()
            assert [s.id for s in found] == [alice.id]
    finally:
        for sio in servers:
            await sio.shutdown(0.1)
        for client in clients:
            await client.aclose()
