"""Start, restart and stop one test server process (Node reference or siox app) by its PID.

Both servers take the same command line (see tests/node/reference_server.js and
tests/interop/siox_app.py): ``--host``, ``--port``, ``--app socketio|engineio``, ``--profile
conformance|interop|recovery``, ``--parser default|msgpack`` and ``--eio3``. A server is ready once
its port accepts TCP connections; its output goes to a log file whose tail is quoted when it
fails to start, so no pipe can fill up and stall it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

TESTS_DIR = Path(__file__).resolve().parent.parent
NODE_DIR = TESTS_DIR / "node"
REFERENCE_SERVER = NODE_DIR / "reference_server.js"
SIOX_APP = TESTS_DIR / "interop" / "siox_app.py"
HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0

ServerKind = Literal["siox", "reference"]

# What tests/interop/siox_app.py needs from siox, per app.
SIOX_NAMES = {
    "socketio": ("Server", "Recovery", "ConnectionRefused", "AckTimeout", "run"),
    "engineio": ("EngineServer", "run"),
}


def siox_missing_names(app: str = "socketio") -> list[str]:
    """The siox names the siox app needs for ``app`` that do not exist yet (empty: runnable).

    siox is imported here, not at module level, so that the Node reference runs do not depend
    on it; an ImportError (siox itself broken) propagates.
    """
    import siox

    return [name for name in SIOX_NAMES[app] if not hasattr(siox, name)]


@dataclass(frozen=True)
class ServerConfig:
    """What to run: which implementation, which app, and how it is configured."""

    kind: ServerKind
    app: Literal["socketio", "engineio"] = "socketio"
    profile: Literal["conformance", "interop", "recovery"] = "conformance"
    parser: Literal["default", "msgpack", "msgpack-module"] = "default"
    eio3: bool = False

    def command(self, port: int) -> list[str]:
        """The command line that starts this server on ``port``."""
        if self.kind == "reference":
            node = shutil.which("node")
            if node is None:
                raise RuntimeError("node is not installed")
            head = [node, str(REFERENCE_SERVER)]
        else:
            head = [sys.executable, str(SIOX_APP)]
        args = [
            "--host", HOST, "--port", str(port), "--app", self.app,
            "--profile", self.profile, "--parser", self.parser,
        ]  # fmt: skip
        if self.eio3:
            args.append("--eio3")
        return head + args

    def label(self) -> str:
        """A short human name, e.g. ``reference socketio/interop/msgpack``."""
        extra = "+eio3" if self.eio3 else ""
        return f"{self.kind} {self.app}/{self.profile}/{self.parser}{extra}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def port_accepts(port: int) -> bool:
    """Whether a TCP connection to 127.0.0.1:``port`` succeeds now."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


class ServerProcess:
    """One running server; `stop` ends exactly the process `start` created (by its PID)."""

    def __init__(self, config: ServerConfig, port: int | None = None) -> None:
        self.config = config
        self.port = port if port is not None else free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.mkstemp(prefix="siox-server-", suffix=".log")[1])

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The PID of the running process, if any."""
        return self._process.pid if self._process is not None else None

    def ensure_running(self) -> None:
        """Raise with the log's tail when the process has died since it started."""
        if self._process is None:
            raise RuntimeError(f"{self.config.label()} is not started")
        code = self._process.poll()
        if code is not None:
            raise RuntimeError(f"{self.config.label()} died with {code}:\n{self.log_tail()}")

    def log_tail(self, limit: int = 4000) -> str:
        """The last ``limit`` characters the process wrote (stdout and stderr)."""
        try:
            text = self._log.read_text(errors="replace")
        except OSError:
            return ""
        return text[-limit:]

    def start(self) -> None:
        """Start the process and wait until its port accepts connections."""
        if self._process is not None:
            raise RuntimeError("already started")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                self.config.command(self.port),
                cwd=NODE_DIR if self.config.kind == "reference" else TESTS_DIR.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not port_accepts(self.port):
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise RuntimeError(
                    f"{self.config.label()} exited with {code} before listening:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"{self.config.label()} did not listen on {self.port} within "
                    f"{START_TIMEOUT:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM the process, then SIGKILL it if it is still alive after a few seconds."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def restart(self) -> None:
        """Stop the process and start a new one on the same port."""
        self.stop()
        deadline = time.monotonic() + STOP_TIMEOUT
        while port_accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.start()

    def close(self) -> None:
        """Stop the process and remove its log file."""
        self.stop()
        self._log.unlink(missing_ok=True)

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def server_config_for_suite(kind: ServerKind, suite: str) -> ServerConfig:
    """The server a conformance suite runs against: ``socketio``, ``engineio-v4`` or ``-v3``."""
    if suite == "socketio":
        return ServerConfig(kind, "socketio", "conformance")
    # Only the v3 run accepts EIO=3: with allowEIO3 a request without EIO counts as v3, which
    # the v4 suite's "invalid EIO" test rejects (it expects a 400).
    return ServerConfig(kind, "engineio", "conformance", eio3=suite == "engineio-v3")
