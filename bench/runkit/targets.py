"""The servers bench/run.py compares: how to start each, whether it can run here, its versions.

Each target runs the same app (see bench/servers/ and bench/server.py): every socket joins
room "all" on connect, "echo" acks its arguments, "bcast" (room, count, payload) emits "m" to
the room count times and acks count. A server is one process, started fresh for each scenario
(pinned to CPU 0 when ``taskset`` is there), and stopped by its PID.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"
BENCH = Path(__file__).resolve().parents[1]
ROOT = BENCH.parent
NODE_MODULES = ROOT / "tests" / "node" / "node_modules"


@dataclass(frozen=True)
class Target:
    """A server to measure: ``command`` + ``--port P`` starts it; ``missing`` says why not."""

    name: str
    command: tuple[str, ...]
    version: str
    missing: str | None = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _probe(command: list[str]) -> str | None:
    """The first line ``command`` prints, or None when it fails."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout else None


def siox_target(python: str) -> Target:
    code = "import sys; sys.path.insert(0, sys.argv[1]); import siox; print(siox.__version__)"
    version = _probe([python, "-c", code, str(ROOT / "src")])
    missing = None if version else f"siox is not importable by {python}"
    command = (python, str(BENCH / "server.py"), "--join-all")
    return Target("siox", command, version or "?", missing)


def python_socketio_target(python: str) -> Target:
    code = (
        "import importlib.metadata as m, socketio, uvicorn; "
        "print(m.version('python-socketio'), 'uvicorn', m.version('uvicorn'))"
    )
    version = _probe([python, "-c", code])
    missing = None
    if version is None:
        missing = (
            f"python-socketio or uvicorn is not importable by {python} "
            "(pip install python-socketio uvicorn uvloop httptools, or pass --peer-python)"
        )
    command = (python, str(BENCH / "servers" / "python_socketio.py"))
    return Target("python-socketio", command, version or "?", missing)


def node_target() -> Target:
    node = shutil.which("node")
    package = NODE_MODULES / "socket.io" / "package.json"
    missing = None
    version = "?"
    if node is None:
        missing = "node is not on PATH"
    elif not package.exists():
        missing = "tests/node/node_modules has no socket.io (cd tests/node && npm ci)"
    else:
        version = f"{json.loads(package.read_text())['version']} node {_probe([node, '--version'])}"
    command = (node or "node", str(BENCH / "servers" / "node_socketio.js"))
    return Target("node", command, version, missing)


def all_targets(python: str, peer_python: str) -> list[Target]:
    """Every target, available or not, in the order of the report."""
    return [siox_target(python), python_socketio_target(peer_python), node_target()]


def pinning(enabled: bool) -> tuple[list[str], list[str]]:
    """Prefixes that pin the server to CPU 0 and the load generator to CPU 1 (or nothing)."""
    taskset = shutil.which("taskset")
    if not enabled or taskset is None or len(os.sched_getaffinity(0)) < 2:
        return [], []
    return [taskset, "-c", "0"], [taskset, "-c", "1"]


class Server:
    """A target's process on a free loopback port, for one scenario."""

    def __init__(self, target: Target, prefix: list[str], log: IO[bytes]) -> None:
        self.port = free_port()
        command = [*prefix, *target.command, "--port", str(self.port)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # taskset execs the server: the PID is the server's own (its /proc is what we read)
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
        self.pid = self.process.pid

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Returns once the port accepts connections; raises if the server died or is slow."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode}")
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
            except OSError:
                time.sleep(0.05)
                continue
            time.sleep(0.2)  # the accepting socket is up before the app's startup ends
            return
        raise RuntimeError(f"nothing listened on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s: this server's PID only."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def default_python() -> str:
    """This interpreter: the one whose environment has siox's dependencies."""
    return sys.executable
