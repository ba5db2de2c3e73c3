"""siox target for the side-by-side benchmark harness (echo, binary, fanout, connect).

    python bench/server.py --port PORT

Engine.IO v4 at /socket.io/, polling + websocket, CORS open, ping 25 s / 20 s, 100 MB buffer;
"echo" acks its arguments, "join" joins a room and acks true, "bcast" (room, count, payload)
emits "m" to the room count times and acks count. One process, no per-message logging.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    siox.run(sio, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
