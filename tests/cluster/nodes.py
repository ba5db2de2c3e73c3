"""Cluster nodes as processes (siox: tests/cluster/cluster_app.py, Node: cluster_server.js) and
siox clients that record what they receive.

Nodes are started together and awaited until their ports accept connections (bounded);
`Node.stop` ends exactly the process it started, by PID (SIGTERM, or SIGKILL on request).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import siox
from interop.server_process import free_port, port_accepts

TESTS_DIR = Path(__file__).resolve().parent.parent
NODE_DIR = TESTS_DIR / "node"
START_TIMEOUT = 20.0
WAIT = 5.0  # the longest a test waits for something that should happen

NodeKind = Literal["siox", "node"]


class Node:
    """One cluster node process."""

    def __init__(
        self,
        kind: NodeKind,
        name: str,
        redis_url: str,
        key: str,
        adapter: str = "classic",
        recovery: bool = False,
        python_args: Sequence[str] = (),
    ) -> None:
        self.kind = kind
        self.name = name
        self.port = free_port()
        self._log = Path(tempfile.mkstemp(prefix=f"siox-cluster-{name}-", suffix=".log")[1])
        args = ["--port", str(self.port), "--redis", redis_url, "--key", key, "--name", name]
        args += ["--requests-timeout", "1.5", "--adapter", adapter]
        if recovery:
            args.append("--recovery")
        if kind == "siox":
            app = str(Path(__file__).with_name("cluster_app.py"))
            self.command = [sys.executable, *python_args, app, *args]
        else:
            node = shutil.which("node")
            if node is None:
                raise RuntimeError("node is not installed")
            self.command = [node, str(NODE_DIR / "cluster_server.js"), *args]
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The PID of the running process."""
        return self._process.pid if self._process is not None else None

    @property
    def url(self) -> str:
        """The node's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        """Start the process (`wait_ready` waits for it)."""
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                self.command,
                cwd=NODE_DIR if self.kind == "node" else TESTS_DIR.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def wait_ready(self, deadline: float) -> None:
        """Wait until the port accepts connections; raise with the log's tail otherwise."""
        while not port_accepts(self.port):
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(f"node {self.name} exited:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {self.name} did not listen:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        """What the process wrote (the last 4000 characters)."""
        return self._log.read_text(errors="replace")[-4000:]

    def stop(self, kill: bool = False) -> None:
        """End the process this object started: SIGKILL when ``kill``, else SIGTERM."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()  # SIGKILL also ends a stopped process
        else:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def pause(self) -> None:
        """SIGSTOP the process: it stays connected (and subscribed) but does nothing."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def close(self) -> None:
        """Stop and remove the log."""
        self.stop()
        self._log.unlink(missing_ok=True)


def start_nodes(
    kinds: list[NodeKind],
    redis_url: str,
    key: str,
    adapter: str = "classic",
    recovery: bool = False,
    python_args: Callable[[str], Sequence[str]] | None = None,
) -> list[Node]:
    """Start one node per kind, in parallel; return them once all listen.

    ``python_args(name)``: interpreter options for siox node ``name`` (a profiler, say).
    """
    nodes = [
        Node(
            kind,
            f"n{i}",
            redis_url,
            key,
            adapter,
            recovery,
            python_args(f"n{i}") if python_args else (),
        )
        for i, kind in enumerate(kinds)
    ]
    try:
        for node in nodes:
            node.spawn()
        deadline = time.monotonic() + START_TIMEOUT
        for node in nodes:
            node.wait_ready(deadline)
    except BaseException:
        for node in nodes:
            node.close()
        raise
    return nodes


@dataclass
class Peer:
    """A siox client of one node, recording the events it receives."""

    socket: siox.ClientSocket
    client: siox.Client
    received: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def id(self) -> str:
        """The socket id."""
        assert self.socket.id is not None
        return self.socket.id

    async def ctl(self, op: str, **spec: Any) -> Any:
        """Ask the node to do ``op`` (see cluster_app.py); its result."""
        return await self.socket.emit_with_ack("ctl", {"op": op, **spec}, timeout=WAIT)

    def events(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of every ``name`` event received so far."""
        return [args for event, args in self.received if event == name]

    async def wait_events(self, name: str, count: int, timeout: float = WAIT) -> list[Any]:
        """Wait until ``count`` ``name`` events came (bounded); return them all."""
        deadline = time.monotonic() + timeout
        while len(self.events(name)) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                break
        return self.events(name)


async def connect(node: Node, reconnection: bool = False) -> Peer:
    """A connected siox client of ``node`` (no reconnection unless asked)."""
    client = siox.Client(
        node.url,
        reconnection=reconnection,
        reconnection_delay=0.5,
        randomization_factor=0.0,
        transports=["websocket"],
    )
    socket = client.socket("/")
    peer = Peer(socket, client)

    @socket.on_any
    def record(event: str, *args: Any) -> None:
        peer.received.append((event, args))
        peer.changed.set()

    @socket.on("ask")
    def answer(*args: Any) -> str:
        return f"answer:{node.name}"

    await socket.connect(timeout=WAIT)
    return peer


async def settle(seconds: float = 0.3) -> None:
    """Let messages that should not arrive have the time to (used before asserting absence)."""
    await asyncio.sleep(seconds)
