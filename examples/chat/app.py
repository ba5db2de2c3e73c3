"""A small chat on siox: open http://127.0.0.1:3000 in two browser tabs.

    python examples/chat/app.py [--port 3000]

The page loads the official socket.io-client bundle installed from npm (tests/node).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import siox

HERE = Path(__file__).resolve().parent
BUNDLE = HERE.parent.parent / "tests" / "node" / "node_modules" / "socket.io-client" / "dist"

sio = siox.Server(connection_state_recovery=True)
users: dict[str, str] = {}


@sio.on("connect")
async def connect(socket: siox.Socket, auth: dict[str, object]) -> None:
    name = str(auth.get("name") or "anonymous")[:32]
    users[socket.id] = name
    if not socket.recovered:
        await socket.broadcast.emit("system", f"{name} joined")
    await sio.emit("users", sorted(users.values()))


@sio.on("chat")
async def chat(socket: siox.Socket, text: object) -> bool:
    if not isinstance(text, str) or not text.strip():
        return False
    await sio.emit("chat", {"from": users.get(socket.id, "?"), "text": text[:500]})
    return True


@sio.on("typing")
async def typing(socket: siox.Socket) -> None:
    await socket.broadcast.volatile.emit("typing", users.get(socket.id, "?"))


@sio.on("disconnect")
async def disconnect(socket: siox.Socket, reason: str) -> None:
    name = users.pop(socket.id, "someone")
    await sio.emit("system", f"{name} left ({reason})")
    await sio.emit("users", sorted(users.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    static = {"/": HERE / "index.html"}
    for name in ("socket.io.min.js", "socket.io.min.js.map"):
        if (BUNDLE / name).exists():
            static[f"/{name}"] = BUNDLE / name
    print(f"siox chat demo: open http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    siox.run(sio, host=args.host, port=args.port, static_files=static)


if __name__ == "__main__":
    main()
