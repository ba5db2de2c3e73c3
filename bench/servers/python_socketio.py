"""python-socketio (AsyncServer, ASGI) under uvicorn with the app of bench/run.py.

    python bench/servers/python_socketio.py --port PORT

Needs python-socketio and uvicorn in the interpreter that runs it (bench/run.py skips this
server with a message otherwise; ``--peer-python`` picks another interpreter). Uvicorn runs
in this process with uvloop and httptools when installed, and the websockets-sansio
WebSocket protocol when this uvicorn has it (the quickest of its WebSocket backends for
python-socketio), else its default. Engine.IO v4 at /socket.io/, CORS open, ping 25 s /
20 s, 100 MB buffer, no access log. Every socket joins room "all" on connect; "echo" acks its
arguments, "join" (room) joins it and acks true, "bcast" (room, count, payload) emits "m" to
the room count times and acks count.
"""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

import uvicorn
import uvicorn.config

import socketio  # type: ignore[import-not-found, unused-ignore]

sio = socketio.AsyncServer(
    async_mode="asgi",
    cors_allowed_origins="*",
    ping_interval=25,
    ping_timeout=20,
    max_http_buffer_size=100_000_000,
)


async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
    await sio.enter_room(sid, "all")


async def echo(sid: str, *args: Any) -> tuple[Any, ...]:
    return args


async def join(sid: str, room: str) -> bool:
    await sio.enter_room(sid, room)
    return True


async def bcast(sid: str, room: str, count: int, payload: Any) -> int:
    for _ in range(count):
        await sio.emit("m", payload, room=room)
    return count


for _handler in (connect, echo, join, bcast):
    sio.on(_handler.__name__, _handler)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    have = importlib.util.find_spec
    uvicorn.run(
        socketio.ASGIApp(sio),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop" if have("uvloop") else "asyncio",
        http="httptools" if have("httptools") else "h11",
        ws="websockets-sansio" if "websockets-sansio" in uvicorn.config.WS_PROTOCOLS else "auto",
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
