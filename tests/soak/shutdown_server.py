"""The server process of the graceful-shutdown soak: slow acks, SIGTERM, a deadline.

Prints its port on stdout, then serves until SIGTERM and shuts down with the deadline given
as argv[1] (seconds). Handlers of "slow" answer after argv[2] seconds (longer than the
deadline, so acks are in flight when the signal comes).
"""

from __future__ import annotations

import asyncio
import signal
import sys

import siox

DEADLINE = float(sys.argv[1])
SLOW = float(sys.argv[2])

sio = siox.Server()


@sio.on("slow")
async def slow(socket: siox.Socket, n: int) -> int:
    await asyncio.sleep(SLOW)
    return n


async def main() -> None:
    async with siox.serve(sio, host="127.0.0.1", port=0, shutdown_timeout=DEADLINE) as serving:
        print(serving.port, flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()


asyncio.run(main())
