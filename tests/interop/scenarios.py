"""Run one socket.io-client scenario of tests/node/client_scenarios.js and return its result.

The script prints JSON lines: ``{"phase": ...}`` progress, then ``{"result": ...}`` or
``{"error": ..., "recorded": ...}``. Bytes arrive tagged as ``{"$bin": base64}`` and come back
from here as `bytes`. A failing scenario fails the test with the script's error and the tail of
the server's log.
"""

from __future__ import annotations

import base64
import json
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

import pytest

from interop.server_process import NODE_DIR, ServerProcess

SCENARIO_SCRIPT = NODE_DIR / "client_scenarios.js"
SCENARIO_TIMEOUT = 40.0  # the script bounds itself at 25 s


def untag(value: Any) -> Any:
    """The script's tagged JSON as Python values (``{"$bin": ...}`` -> bytes)."""
    if isinstance(value, list):
        return [untag(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"$bin"}:
            return base64.b64decode(value["$bin"])
        return {key: untag(item) for key, item in value.items()}
    return value


class Scenario:
    """A running scenario process whose JSON lines are read one at a time."""

    def __init__(
        self,
        name: str,
        server: ServerProcess,
        *,
        parser: str = "default",
        transports: str = "default",
    ) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.skip("needs Node.js")
        self.name = name
        self.server = server
        command = [node, str(SCENARIO_SCRIPT), name, server.url, "--parser", parser]
        command += ["--transports", transports]
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stderr_text)
        self._process = subprocess.Popen(
            command,
            cwd=NODE_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")},
        )
        self._deadline = time.monotonic() + SCENARIO_TIMEOUT

    def _fail(self, message: str) -> None:
        self.stop()
        stderr = self.stderr_text()
        pytest.fail(
            f"scenario {self.name!r} against {self.server.config.label()}: {message}\n"
            f"--- node stderr ---\n{stderr[-3000:]}\n"
            f"--- server log ---\n{self.server.log_tail()}",
            pytrace=False,
        )

    def next_line(self) -> dict[str, Any]:
        """The next JSON line; fails the test on an error line, a timeout or an early exit."""
        assert self._process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            remaining = self._deadline - time.monotonic()
            if remaining <= 0 or not selector.select(timeout=remaining):
                self._fail(f"no output within {SCENARIO_TIMEOUT:.0f} s")
        line = self._process.stdout.readline()
        if not line:
            self._fail(f"exited with {self._process.wait()} without a result")
        message: dict[str, Any] = json.loads(line)
        if "error" in message:
            recorded = json.dumps(message.get("recorded"), indent=None)[:3000]
            self._fail(f"{message['error']}\nrecorded events: {recorded}")
        return message

    def result(self) -> Any:
        """The scenario's result (skipping progress lines), bytes untagged."""
        while True:
            message = self.next_line()
            if "result" in message:
                self.stop(grace=2.0)
                self.stderr_text()
                return untag(message["result"])

    def stop(self, grace: float = 0.0) -> None:
        """End the scenario process (by its PID) if it has not exited within ``grace`` s."""
        try:
            self._process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def stderr_text(self) -> str:
        """What the script wrote on stderr so far (then the temporary file is closed)."""
        if self._stderr.closed:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace")
        self._stderr.close()
        return text


def run_scenario(name: str, server: ServerProcess, **options: str) -> Any:
    """Run a scenario to the end against ``server`` and return its result."""
    return Scenario(name, server, **options).result()


def run_with_restart(name: str, server: ServerProcess, restart: Callable[[], None]) -> Any:
    """Run a scenario that prints ``{"phase": "connected"}``, call ``restart`` then, and finish."""
    scenario = Scenario(name, server)
    try:
        phase = scenario.next_line()
        assert phase.get("phase") == "connected", phase
        restart()
        return scenario.result()
    finally:
        scenario.stop()
        scenario.stderr_text()
