"""The out-of-process load generator: several Node processes of npm socket.io-client sockets.

``LoadGen`` splits the clients over ``procs`` processes of ``loadgen.js`` (default: one per
5,000 clients, or ``$SIOX_LOADGEN_PROCS``), so the server under test has its event loop to
itself and the size is not bound by one Python loop driving the clients too. ``result()``
adds the processes' JSON reports up (counts summed, reason counts merged, latencies and the
last number seen: their maximum).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "loadgen.js"
CLIENT = HERE.parent / "node" / "node_modules" / "socket.io-client"
_MAXED = {"ack_ms_p50", "ack_ms_p99", "last", "wall_s", "all_disconnected_s"}


def need_node() -> str:
    """The ``node`` executable, or skip the test (no Node.js or no npm peers installed)."""
    node = shutil.which("node")
    if node is None or not CLIENT.is_dir():
        pytest.skip("needs Node.js and tests/node/node_modules (scripts/install)")
    return node


def add_up(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report from the processes' reports (see the module's docstring)."""
    total: dict[str, Any] = {}
    for one in reports:
        for key, value in one.items():
            if isinstance(value, dict):
                merged = total.setdefault(key, {})
                for name, count in value.items():
                    merged[name] = merged.get(name, 0) + count
            elif key in _MAXED:
                total[key] = max(total.get(key, value), value)
            else:
                total[key] = total.get(key, 0) + value
    return total


class LoadGen:
    """``clients`` Node clients in ``mode`` (churn, upgrade, shutdown) against ``url``."""

    def __init__(
        self,
        mode: str,
        url: str,
        clients: int,
        seconds: float,
        emits: int = 5,
        procs: int = 0,
        think_ms: int = 0,
    ) -> None:
        self.args = (mode, url, clients, seconds, emits)
        self.think_ms = think_ms
        wanted = procs or int(os.environ.get("SIOX_LOADGEN_PROCS", 0) or 0)
        self.procs = max(1, min(clients, wanted or math.ceil(clients / 5000)))
        self._running: list[asyncio.subprocess.Process] = []

    async def __aenter__(self) -> LoadGen:
        node = need_node()
        mode, url, clients, seconds, emits = self.args
        share, extra = divmod(clients, self.procs)
        first = 0
        for index in range(self.procs):
            count = share + (1 if index < extra else 0)
            process = await asyncio.create_subprocess_exec(
                node,
                "--max-old-space-size=4096",
                str(SCRIPT),
                mode,
                url,
                str(first),
                str(count),
                str(seconds),
                str(emits),
                str(self.think_ms),
                stdout=asyncio.subprocess.PIPE,  # its progress lines go to our stderr
            )
            self._running.append(process)
            first += count
        return self

    async def __aexit__(self, *exc: object) -> None:
        for process in self._running:
            if process.returncode is None:
                process.kill()
                await process.wait()

    @staticmethod
    async def _output(process: asyncio.subprocess.Process) -> bytes:
        assert process.stdout is not None
        out = await process.stdout.read()
        await process.wait()
        return out

    def finished(self) -> bool:
        """Whether every process has ended."""
        return all(process.returncode is not None for process in self._running)

    async def ready(self, timeout: float) -> None:
        """Wait for every process's ``ready`` line (shutdown mode: all joined, acks sent)."""
        for process in self._running:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), timeout)
            assert line.strip() == b"ready", line

    async def result(self, timeout: float) -> dict[str, Any]:
        """Wait for every process to end; their reports added up. A process still running
        after ``timeout`` s is stopped (SIGTERM: it reports what it has, marked
        ``interrupted``)."""
        outputs = [asyncio.ensure_future(self._output(p)) for p in self._running]
        _, late = await asyncio.wait(outputs, timeout=timeout)
        for process in self._running:
            if late and process.returncode is None:
                process.terminate()
        reports = []
        for process, output in zip(self._running, outputs, strict=True):
            out = await asyncio.wait_for(output, 30)
            if process.returncode != 0 or not out.strip():
                raise AssertionError(f"loadgen exited {process.returncode}: {out[-2000:]!r}")
            reports.append(json.loads(out.decode().strip().splitlines()[-1]))
        figures = add_up(reports)
        figures.setdefault("interrupted", 0)
        figures["procs"] = self.procs
        return figures
