"""A small chat on siox: open http://127.0.0.1:3000 in two browser tabs.

    npm ci                                  # once: the official client bundle, from npm
    python app.py [--host 127.0.0.1] [--port 3000]   # --port 0: any free port

The page loads ``/socket.io/socket.io.min.js``, which the server serves from this folder's
``node_modules/socket.io-client`` (``serve_client=True``); the server refuses to start, saying
so, when ``npm ci`` has not been run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

import siox

HERE = Path(__file__).resolve().parent
MAX_NAME = 32
MAX_TEXT = 500

sio = siox.Server(connection_state_recovery=True, serve_client=True)
users: dict[str, str] = {}


def clean_name(auth: dict[str, object]) -> str:
    name = auth.get("name")
    text = name.strip()[:MAX_NAME] if isinstance(name, str) else ""
    return text or "anonymous"


@sio.on("connect")
async def connect(socket: siox.Socket, auth: dict[str, object]) -> None:
    name = clean_name(auth)
    users[socket.id] = name
    if not socket.recovered:
        await socket.broadcast.emit("system", f"{name} joined")
    await sio.emit("users", sorted(users.values()))


@sio.on("chat")
async def chat(socket: siox.Socket, text: object) -> bool:
    if not isinstance(text, str) or not text.strip():
        return False
    await sio.emit("chat", {"from": users.get(socket.id, "?"), "text": text.strip()[:MAX_TEXT]})
    return True


@sio.on("typing")
async def typing(socket: siox.Socket) -> None:
    await socket.broadcast.volatile.emit("typing", users.get(socket.id, "?"))


@sio.on("disconnect")
async def disconnect(socket: siox.Socket, reason: str) -> None:
    name = users.pop(socket.id, "someone")
    await sio.emit("system", f"{name} left")
    await sio.emit("users", sorted(users.values()))


async def serve(host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with siox.serve(sio, host=host, port=port, static_files={"/": HERE / "index.html"}) as s:
        print(f"siox chat demo: listening on http://{host}:{s.port} (Ctrl-C to stop)", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="The siox chat demo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
