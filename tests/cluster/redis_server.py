"""The Redis the cluster tests use: ``SIOX_REDIS_URL``, else 127.0.0.1:6379, else one started here.

When neither answers, ``redis-server`` is installed if missing (``apt-get install -y
redis-server``, as root) and started on a free port without persistence; `RedisServer.stop`
ends exactly that process, by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"
URL_ENV = "SIOX_REDIS_URL"
START_TIMEOUT = 10.0


def redis_answers(host: str, port: int) -> bool:
    """Whether a Redis server answers PING at ``host:port`` (one short attempt)."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as conn:
            conn.settimeout(0.5)
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is not None:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise RuntimeError("no Redis answers and redis-server is not installed (apt-get as root)")
    subprocess.run([apt, "update", "-qq"], check=True, timeout=300)
    subprocess.run([apt, "install", "-y", "-qq", "redis-server"], check=True, timeout=300)
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("apt-get installed redis-server, but it is not on PATH")
    return found


class RedisServer:
    """A ``redis-server`` this test session started, on a free loopback port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port if port is not None else _free_port()
        self._log = Path(tempfile.mkstemp(prefix="siox-redis-", suffix=".log")[1])
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        """Start it and wait (bounded) until it answers PING."""
        command = [
            _redis_server_binary(), "--bind", HOST, "--port", str(self.port),
            "--save", "", "--appendonly", "no", "--protected-mode", "yes",
        ]  # fmt: skip
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not redis_answers(HOST, self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start:\n{self._log.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM the process this object started (SIGKILL after 5 s)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._log.unlink(missing_ok=True)


def find_or_start_redis() -> tuple[str, RedisServer | None]:
    """The URL of a Redis to use, and the server started for it (None: one already ran)."""
    url = os.environ.get(URL_ENV)
    if url:
        return url, None
    if redis_answers(HOST, 6379):
        return f"redis://{HOST}:6379/0", None
    server = RedisServer()
    server.start()
    return server.url, server
