"""siox target for the side-by-side benchmark harness (echo, binary, fanout, connect).

    python bench/server.py --port PORT

Engine.IO v4 at /socket.io/, polling + websocket, CORS open, ping 25 s / 20 s, 100 MB buffer;
"echo" acks its arguments, "join" joins a room and acks true, "bcast" (room, count, payload)
emits "m" to the room count times and acks count. One process (``--workers N``: N), no
per-message logging. With ``--join-all`` (bench/run.py's app) every socket joins room "all"
on connect.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import siox

sio = siox.Server(cors_allowed_origins="*", max_http_buffer_size=100_000_000)


@sio.on("echo")
def echo(socket: siox.Socket, *args: object) -> tuple[object, ...]:
    return args


@sio.on("join")
async def join(socket: siox.Socket, room: str) -> bool:
    await socket.join(room)
    return True


@sio.on("bcast")
async def bcast(socket: siox.Socket, room: str, count: int, payload: object) -> int:
    target = sio.to(room)
    for _ in range(count):
        await target.emit("m", payload)
    return count


async def join_all(socket: siox.Socket) -> None:
    await socket.join("all")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--redis", default=None, help="a Redis URL: join a cluster on it")
    parser.add_argument("--join-all", action="store_true", help='sockets join "all" on connect')
    args = parser.parse_args()
    if args.join_all:
        sio.on("connect", join_all)
    app = sio
    if args.redis:
        import redis.asyncio

        from siox.adapters.redis import redis_adapter

        client = redis.asyncio.Redis.from_url(args.redis)
        app = siox.Server(cors_allowed_origins="*", adapter=redis_adapter(client, key="bench"))
        app.on("echo", echo)
    siox.run(app, host=args.host, port=args.port, workers=args.workers)


if __name__ == "__main__":
    main()
