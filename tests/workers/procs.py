"""A ``workers=N`` server process (tests/workers/workers_app.py) and ways to look inside it.

`WorkersServer.stats` asks every worker for its counters through the app's ``stats`` event
(which gathers them with ``server_side_emit_with_ack``); `wait_workers` waits until every slot
answers, with the pids expected. The process is ended by its PID only.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import siox
from interop.server_process import free_port

TESTS_DIR = Path(__file__).resolve().parent.parent
NODE_DIR = TESTS_DIR / "node"
WAIT = 10.0
HOST = "127.0.0.1"


class WorkersServer:
    """``python workers_app.py PORT WORKERS`` (started by `start`)."""

    def __init__(self, workers: int = 2, *args: str, loop: str = "uvloop") -> None:
        self.workers = workers
        self.loop = loop
        self.args = args  # more arguments of workers_app.py
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="siox-workers-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkersServer:
        """Start the supervisor (call `wait_workers` to wait for the workers)."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("workers_app.py")),
                 str(self.port), str(self.workers), *self.args],
                cwd=TESTS_DIR.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "WORKERS_APP_LOOP": self.loop},
            )  # fmt: skip
        return self

    def output(self) -> str:
        """What the server printed."""
        return self.log.read_text(errors="replace")

    async def stats(self) -> list[dict[str, Any]]:
        """Every worker's counters (index order), asked through one session."""
        client = siox.Client(self.url, transports=["polling"], reconnection=False)
        socket = client.socket("/")
        try:
            await socket.connect(timeout=3)
            found: list[dict[str, Any]] = await socket.emit_with_ack("stats", timeout=6)
            return found
        finally:
            await client.close()

    async def wait_workers(self, exclude: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
        """Wait until all workers answer (none with a pid in ``exclude``); their counters."""
        deadline = time.monotonic() + WAIT
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.output()}")
            try:
                found = await self.stats()
            except Exception:
                found = []
            if len(found) == self.workers and not {item["pid"] for item in found} & exclude:
                return found
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers not ready ({found}):\n{self.output()}")
            await asyncio.sleep(0.1)

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the supervisor."""
        assert self.process is not None
        self.process.send_signal(signum)

    def wait_exit(self, timeout: float = WAIT) -> int:
        """Wait for the supervisor to exit; its status."""
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit (by PID)."""
        terminate(self.process)
        self.log.unlink(missing_ok=True)


def terminate(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM ``process`` (one this test started), then SIGKILL if it is still there after WAIT."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (and is no zombie)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


def children_of(pid: int) -> set[int]:
    """The child processes of ``pid``."""
    return {int(item) for item in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def open_fds(pid: int) -> int:
    """How many descriptors process ``pid`` holds."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def node_clients(script: str, *args: str) -> Any:
    """Run a scenario of a tests/node client script (workers_clients.js, balancer_clients.js,
    both on session_clients.js); its result (raises on its error)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    done = subprocess.run(
        [node, str(NODE_DIR / script), *args],
        cwd=NODE_DIR, capture_output=True, timeout=40, check=False,
    )  # fmt: skip
    lines = done.stdout.decode().strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if lines else {"error": done.stderr.decode()}
    if "error" in report:
        raise AssertionError(f"{args[1]}: {report['error']}")
    return report["result"]


def node_scenario(url: str, scenario: str, count: int = 2) -> dict[str, Any]:
    """Run a scenario of tests/node/workers_clients.js; its result (raises on its error)."""
    result: dict[str, Any] = node_clients("workers_clients.js", url, scenario, str(count))
    return result


class RoundRobin:
    """A TCP balancer with no stickiness: each new connection goes to the next backend."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> RoundRobin:
        """Listen on a free port."""
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def close(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.close()


def exchange(port: int, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` on a new connection; the status and body of the answer."""
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < body_end(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def body_end(data: bytes) -> int:
    """Where the body of the answer in ``data`` ends (by its Content-Length)."""
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(head) + 4 + int(line.split(b":")[1])
    return len(data)


def get(sid: str, port: int) -> bytes:
    """A long-polling GET of session ``sid`` (``Connection: close``)."""
    return (
        f"GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
        f"Host: {HOST}:{port}\r\nConnection: close\r\n\r\n"
    ).encode()
