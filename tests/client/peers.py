"""The servers of the client tests: the Node peer (npm socket.io) and its siox twin.

`NodePeer` runs tests/node/client_peer_server.js (started on a free port, stopped by PID);
`SioxPeer` serves tests/client/siox_peer.py with `siox.serve` on the test's own loop. Both have
``url``, ``start()``, ``stop()`` and ``restart()`` (same port, fresh state), so a scenario can
be written once and run against either server.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
from pathlib import Path
from typing import Any, TypedDict

import siox
from client.siox_peer import make_server

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
PEER_JS = NODE_DIR / "client_peer_server.js"
START_TIMEOUT = 10.0


class ClientTimings(TypedDict):
    """Keyword arguments of `siox.Client` (typed, so ``**FAST`` is checked against it)."""

    reconnection_delay: float
    reconnection_delay_max: float
    timeout: float


#: Fast reconnection for tests: 50 ms, capped at 200 ms.
FAST: ClientTimings = {"reconnection_delay": 0.05, "reconnection_delay_max": 0.2, "timeout": 5.0}
TRANSPORTS = {
    "polling": ("polling",),
    "websocket": ("websocket",),
    "upgrade": ("polling", "websocket"),
}


class NodePeer:
    """One Node socket.io server process."""

    kind = "node"

    def __init__(self, *args: str) -> None:
        self.args = args
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_sync(self) -> None:
        process = subprocess.Popen(
            ["node", str(PEER_JS), "--port", str(self.port), *self.args],
            cwd=NODE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        line = process.stdout.readline() if ready else ""
        if not line:
            process.kill()
            process.wait(timeout=5)
            raise RuntimeError(f"the Node peer did not start ({self.args})")
        self.port = json.loads(line)["listening"]["port"]
        self.process = process

    def stop_sync(self, *, kill: bool = True) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()

    async def start(self) -> None:
        await asyncio.to_thread(self.start_sync)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_sync)

    async def restart(self) -> None:
        await self.stop()
        await self.start()


class SioxPeer:
    """The siox twin, served in-process (start it from the test's loop)."""

    kind = "siox"

    def __init__(self, *, ssl: Any = None, **options: Any) -> None:
        self.options = options
        self.ssl = ssl
        self.serving: siox.Serving | None = None
        self.server: siox.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = make_server(**self.options)
        serving = siox.serve(self.server, host="127.0.0.1", port=self.port, ssl=self.ssl)
        self.serving = await serving.start()
        self.port = serving.port

    async def stop(self) -> None:
        serving, self.serving = self.serving, None
        if serving is not None:
            serving.shutdown_timeout = 0.2
            await serving.close()

    async def restart(self) -> None:
        await self.stop()
        await self.start()


def shared_node(peers: dict[tuple[str, ...], NodePeer], *args: str) -> NodePeer:
    """The shared Node peer started with ``args``."""
    peer = peers.get(args)
    if peer is None:
        peer = NodePeer(*args)
        peer.start_sync()
        peers[args] = peer
    return peer
