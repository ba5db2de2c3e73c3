"""A siox cluster node for the cluster tests; tests/node/cluster_server.js is its Node twin.

    python tests/cluster/cluster_app.py --port P --redis URL --key KEY --name NAME
        [--requests-timeout SECONDS] [--adapter KIND] [--recovery]

``KIND`` is ``classic`` (the default), ``sharded`` (dynamic), ``sharded-static``,
``sharded-private`` (dynamic-private), ``streams`` or ``streams-sharded`` (three streams, sharded
Pub/Sub: npm's ``streamCount: 3, useShardedPubSub: true``); the key is the channel prefix (and
the stream name).

Clients drive the node with one event, ``ctl``, whose ack is the result (see `control`):
``count``, ``join``, ``set_data``, ``emit``, ``burst``, ``numbered``, ``emit_ack``, ``fetch``, ``remote``, ``join_all``,
``leave_all``, ``disconnect_all``, ``sse``, ``sse_ack``, ``sse_seen``, ``whoami``, ``drop``. Server-side events:
``ping(x)`` answers ``"pong:<name>:<x>"`` and every server-side event is recorded for
``sse_seen``. The node subscribes before it listens, so a node whose port accepts connections
is in the cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

import siox
from siox.adapters.redis import redis_adapter, redis_streams_adapter, sharded_redis_adapter
from siox.adapters.sharded import SubscriptionMode


def describe(socket: Any) -> dict[str, Any]:
    """A fetched socket as the tests compare it."""
    handshake = socket.handshake
    address = handshake.get("address") if isinstance(handshake, dict) else handshake.address
    return {
        "id": socket.id,
        "rooms": sorted(socket.rooms),
        "data": socket.data,
        "address": address,
        "remote": type(socket).__name__ == "RemoteSocket",
    }


def operator(sio: siox.Server, spec: dict[str, Any]) -> siox.BroadcastOperator:
    """The broadcast operator ``spec`` describes (rooms, except, local, volatile, timeout)."""
    target = sio.of("/")
    op = target.to(spec.get("rooms", [])).except_(spec.get("except", []))
    if spec.get("local"):
        op = op.local
    if spec.get("volatile"):
        op = op.volatile
    if spec.get("timeout") is not None:
        op = op.timeout(spec["timeout"])
    return op


def make_adapter(client: aioredis.Redis, kind: str, key: str, requests_timeout: float) -> Any:
    """The adapter factory of kind ``kind`` (see the module)."""
    if kind == "classic":
        return redis_adapter(client, key=key, requests_timeout=requests_timeout)
    if kind in ("streams", "streams-sharded"):
        spread = kind == "streams-sharded"  # three streams and sharded Pub/Sub
        return redis_streams_adapter(
            client,
            stream_name=key,
            channel_prefix=key,
            requests_timeout=requests_timeout,
            stream_count=3 if spread else 1,
            use_sharded_pubsub=spread,
        )
    modes: dict[str, SubscriptionMode] = {
        "sharded": "dynamic",
        "sharded-static": "static",
        "sharded-private": "dynamic-private",
    }
    return sharded_redis_adapter(
        client, channel_prefix=key, subscription_mode=modes[kind], requests_timeout=requests_timeout
    )


def build(
    name: str,
    client: aioredis.Redis,
    key: str,
    requests_timeout: float,
    kind: str = "classic",
    recovery: bool = False,
) -> siox.Server:
    """The node's server."""
    sio = siox.Server(
        adapter=make_adapter(client, kind, key, requests_timeout),
        connection_state_recovery=recovery,
    )
    seen: list[list[Any]] = []

    @sio.on_server_side("ping")
    async def ping(x: Any) -> str:  # an async handler: its result is the ack
        seen.append(["ping", x])
        await asyncio.sleep(0)
        return f"pong:{name}:{x}"

    @sio.on_server_side("note")
    def note(*args: Any) -> None:
        seen.append(["note", *args])

    async def control(socket: siox.Socket, spec: dict[str, Any]) -> Any:
        op = spec["op"]
        if op == "count":
            return await sio.server_count()
        if op == "name":
            return name
        if op == "join":
            await socket.join(spec["room"])
            return sorted(socket.rooms)
        if op == "set_data":
            socket.data.update(spec["data"])
            return None
        if op == "emit":
            await operator(sio, spec).emit(spec["event"], *spec.get("args", []))
            return None
        if op == "burst":  # the benchmark: ``count`` broadcasts of the same event
            broadcast = operator(sio, spec)
            for _ in range(spec["count"]):
                await broadcast.emit(spec["event"], *spec.get("args", []))
            return spec["count"]
        if op == "numbered":  # ``count`` events numbered from 0, one per millisecond or so
            for number in range(spec["count"]):
                await sio.emit(spec["event"], number)
                await asyncio.sleep(0.001)
            return spec["count"]
        if op == "emit_ack":
            results = await operator(sio, spec).emit_with_ack(spec["event"], *spec.get("args", []))
            return {
                "replies": sorted(map(str, results.replies)),
                "missing": results.missing,
                "by_socket": sorted(results.by_socket),
            }
        if op == "fetch":
            return sorted(
                (describe(s) for s in await operator(sio, spec).fetch_sockets()),
                key=lambda d: str(d["id"]),
            )
        if op == "remote":
            for target in await sio.fetch_sockets():
                if target.id == spec["id"]:
                    action = spec["action"]
                    if action == "emit":
                        await target.emit(spec["event"], *spec.get("args", []))
                    elif action == "join":
                        await target.join(spec["room"])
                    elif action == "leave":
                        await target.leave(spec["room"])
                    else:
                        await target.disconnect()
                    return True
            return False
        if op == "join_all":
            await operator(sio, spec).sockets_join(spec["room"])
            return None
        if op == "leave_all":
            await operator(sio, spec).sockets_leave(spec["room"])
            return None
        if op == "disconnect_all":
            await operator(sio, spec).disconnect_sockets()
            return None
        if op == "sse":
            await sio.server_side_emit(spec["event"], *spec.get("args", []))
            return None
        if op == "sse_ack":
            results = await sio.timeout(spec["timeout"]).server_side_emit_with_ack(
                spec["event"], *spec.get("args", [])
            )
            return {"replies": sorted(map(str, results.replies)), "missing": results.missing}
        if op == "sse_seen":
            return seen
        if op == "whoami":
            return {
                "id": socket.id,
                "rooms": sorted(socket.rooms),
                "data": socket.data,
                "recovered": socket.recovered,
            }
        if op == "drop":  # close the connection abruptly ("forced close"), after this ack
            asyncio.get_running_loop().call_later(0.05, socket.conn.close)
            return None
        raise ValueError(f"unknown op {op!r}")

    sio.on("ctl", control)
    return sio


async def main(argv: Sequence[str] | None = None) -> None:
    """Subscribe, then serve until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--requests-timeout", type=float, default=2.0)
    parser.add_argument("--adapter", default="classic")
    parser.add_argument("--recovery", action="store_true")
    options = parser.parse_args(argv)
    client = aioredis.Redis.from_url(options.redis)
    sio = build(
        options.name,
        client,
        options.key,
        options.requests_timeout,
        options.adapter,
        options.recovery,
    )
    await sio.server_count()  # subscribed before listening
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with siox.serve(sio, host="127.0.0.1", port=options.port, shutdown_timeout=1.0):
        await stop.wait()
    with contextlib.suppress(Exception):
        await client.aclose()


if __name__ == "__main__":
    try:
        import uvloop  # as siox.run does
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
