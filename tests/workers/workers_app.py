"""The app the workers tests run: ``python tests/workers/workers_app.py PORT WORKERS [REDIS KEY]``.

With a Redis URL and key, the app is configured with the Redis adapter (the workers then use
it, not their own hub). With ``engine`` instead, it is a bare `siox.EngineServer` whose
sessions echo every message, prefixed with the index of the worker that owns them.
``WORKERS_APP_LOOP=asyncio`` runs the workers on asyncio's own loop instead of uvloop.

Events (the ack is the result): ``echo(*args)`` answers its arguments; ``whoami`` the index of
the worker that owns the session; ``join(room)``; ``shout(room, event, data)`` broadcasts to a
room; ``ask_all(timeout)`` a broadcast with acks (the replies); ``fetch`` the ids of every socket
of the cluster; ``stats`` every worker's counters (through ``server_side_emit_with_ack``);
``pid`` the owning worker's process id. Clients answer an ``ask`` event with their own id.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from typing import Any

import siox
import siox.workers


def build(redis: tuple[str, str] | None = None) -> siox.Server:
    """The test server."""
    adapter = None
    if redis is not None:
        import redis.asyncio as aioredis

        from siox.adapters.redis import redis_adapter

        adapter = redis_adapter(aioredis.Redis.from_url(redis[0]), key=redis[1])
    sio = siox.Server(allow_eio3=True, ping_interval=2.0, ping_timeout=2.0, adapter=adapter)

    def mine() -> dict[str, Any]:
        stats = siox.workers.current()
        assert stats is not None
        return asdict(stats) | {"pid": os.getpid()}

    @sio.on_server_side("stats")
    def on_stats() -> dict[str, Any]:
        return mine()

    @sio.on("echo")
    def echo(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @sio.on("whoami")
    def whoami(socket: siox.Socket) -> dict[str, Any]:
        return mine()

    @sio.on("join")
    async def join(socket: siox.Socket, room: str) -> bool:
        await socket.join(room)
        return True

    @sio.on("shout")
    async def shout(socket: siox.Socket, room: str, event: str, data: Any) -> bool:
        await sio.of("/").to(room).emit(event, data)
        return True

    @sio.on("ask_all")
    async def ask_all(socket: siox.Socket, timeout: float) -> list[Any]:
        results = await sio.of("/").timeout(timeout).emit_with_ack("ask")
        return sorted(str(reply) for reply in results.replies)

    @sio.on("fetch")
    async def fetch(socket: siox.Socket) -> list[str]:
        return sorted(found.id for found in await sio.fetch_sockets())

    @sio.on("stats")
    async def stats(socket: siox.Socket) -> list[dict[str, Any]]:
        others = await sio.timeout(3.0).server_side_emit_with_ack("stats")
        return sorted([mine(), *others.replies], key=lambda item: int(item["slot"]))

    return sio


def build_engine() -> siox.EngineServer:
    """A bare Engine.IO server: echoes ``"<worker index>:<message>"``."""
    engine = siox.EngineServer(path="/socket.io/")

    @engine.on("message")
    def message(session: Any, data: str | bytes) -> None:
        stats = siox.workers.current()
        assert stats is not None
        session.write([f"{stats.index}:{data!s}"])

    return engine


if __name__ == "__main__":
    port, workers, extra = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    app: Any = (
        build_engine() if extra == ["engine"] else build((extra[0], extra[1]) if extra else None)
    )
    uvloop = os.environ.get("WORKERS_APP_LOOP", "uvloop") == "uvloop"  # or "asyncio"
    siox.run(app, host="127.0.0.1", port=port, workers=workers, use_uvloop=uvloop)
