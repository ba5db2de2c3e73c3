"""A background task that emits to a room periodically, started and stopped with the server.

    python examples/background_task/app.py [--port 3000] [--interval 1.0]

Clients ``subscribe`` to join the room ``ticks`` (and ``unsubscribe`` to leave it); a task
started next to the server emits ``tick`` with a counter and the time to that room every
``--interval`` seconds, whoever is listening. ``status`` answers the counter and how many
sockets are subscribed. On Ctrl-C the task is cancelled and the server shuts down gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

import siox

sio = siox.Server()
ROOM = "ticks"
state = {"count": 0}


@sio.on("subscribe")
async def subscribe(socket: siox.Socket) -> bool:
    await socket.join(ROOM)
    return True


@sio.on("unsubscribe")
async def unsubscribe(socket: siox.Socket) -> bool:
    await socket.leave(ROOM)
    return True


@sio.on("status")
async def status(socket: siox.Socket) -> dict[str, int]:
    subscribed = await sio.in_(ROOM).fetch_sockets()
    return {"count": state["count"], "subscribers": len(subscribed)}


async def ticker(interval: float) -> None:
    """Emit a numbered tick to the room, forever (until cancelled)."""
    while True:
        await asyncio.sleep(interval)
        state["count"] += 1
        await sio.to(ROOM).emit("tick", {"count": state["count"], "time": time.time()})


async def main(host: str, port: int, interval: float) -> None:
    async with siox.serve(sio, host=host, port=port) as serving:
        task = asyncio.create_task(ticker(interval))
        print(f"listening on http://{host}:{serving.port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--interval", type=float, default=1.0)
    options = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(options.host, options.port, options.interval))
