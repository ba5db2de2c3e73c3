"""Shared measuring kit of the soak tests: process samples, loop lag, sizes from env vars.

Each soak test reads its size from environment variables (the defaults are the scaled CI
run; tests/soak/README.md gives the full-size values) and prints a one-line JSON report
(``pytest -s`` shows it), also appended to ``$SIOX_SOAK_REPORT`` when that is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PAGE = resource.getpagesize()
_HERE = Path(__file__).resolve().parent


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def rss_mb() -> float:
    """Resident set size of this process, MB (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 1e6


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute (0 with < 2 points)."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    num = sum((t - mean_t) * (v - mean_v) for t, v in points)
    den = sum((t - mean_t) ** 2 for t, _ in points)
    return 0.0 if den == 0 else num / den * 60


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Sampler:
    """Samples RSS, fds and tasks every ``period`` s and the loop's lag every ``tick`` s."""

    period: float = 0.5
    tick: float = 0.01
    started: float = field(default_factory=time.monotonic)
    samples: list[dict[str, float]] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._sample()), loop.create_task(self._lag())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def now(self) -> float:
        return time.monotonic() - self.started

    def take(self) -> dict[str, float]:
        sample = {
            "t": self.now(),
            "rss_mb": rss_mb(),
            "fds": float(open_fds()),
            "tasks": float(len(asyncio.all_tasks())),
        }
        self.samples.append(sample)
        return sample

    async def _sample(self) -> None:
        while True:
            self.take()
            await asyncio.sleep(self.period)

    async def _lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.tick)
            self.lags.append(max(0.0, loop.time() - before - self.tick))

    def series(self, key: str, after: float) -> list[tuple[float, float]]:
        return [(s["t"], s[key]) for s in self.samples if s["t"] >= after]


def report(name: str, figures: dict[str, Any]) -> None:
    line = json.dumps({"test": name, **figures}, sort_keys=True)
    print(line)
    target = os.environ.get("SIOX_SOAK_REPORT")
    if target:
        with Path(target).open("a") as out:
            out.write(line + "\n")


@dataclass
class ShutdownServer:
    """The graceful-shutdown test's server process (shutdown_server.py) and its port."""

    process: asyncio.subprocess.Process
    port: int
    deadline: float
    errors: str = ""

    def check_clean_exit(self, exited: float) -> None:
        """It exited within its deadline (plus a margin for load), cleanly, logging no error."""
        assert exited < self.deadline + 2.0, exited
        assert self.process.returncode == 0, (self.process.returncode, self.errors)
        assert "Traceback" not in self.errors and "ERROR" not in self.errors, self.errors
        assert "never retrieved" not in self.errors, self.errors


@contextlib.asynccontextmanager
async def shutdown_server(deadline: float, slow_ack_s: float = 60) -> AsyncIterator[ShutdownServer]:
    """Run shutdown_server.py with ``deadline``; killed on the way out if still running.

    On exit ``errors`` holds what the process wrote to stderr.
    """
    src = str(_HERE.parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(_HERE / "shutdown_server.py"),
        str(deadline),
        str(slow_ack_s),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    server: ShutdownServer | None = None
    try:
        port = int(await asyncio.wait_for(process.stdout.readline(), 15))
        server = ShutdownServer(process, port, deadline)
        yield server
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        errors = (await process.stderr.read()).decode()
        if server is not None:
            server.errors = errors


async def numbered_ticker(server: Any, rate_hz: int, stop: asyncio.Event) -> int:
    """Broadcast ``"n"`` with 1, 2, 3, ... at ``rate_hz`` until ``stop``; the last number sent.

    Behind schedule (a busy loop) it sends the numbers it owes in a burst, so the rate holds on
    average and the numbers stay consecutive.
    """
    n = 0
    start = time.monotonic()
    while not stop.is_set():
        due = int((time.monotonic() - start) * rate_hz)
        while n < due:
            n += 1
            await server.emit("n", n)
        await asyncio.sleep(0.001)
    return n


async def settle(server: Any, sampler: Sampler, tries: int) -> dict[str, float]:
    """Wait (up to ``tries`` x 0.1 s) until the server has no connection; the final sample.

    Collects garbage first, so the sample's RSS, fds and tasks are what the server keeps.
    """
    for _ in range(tries):  # the server notices the last closes
        if not server.connections:
            break
        await asyncio.sleep(0.1)
    gc.collect()
    await asyncio.sleep(0.5)
    final = sampler.take()
    await sampler.stop()
    return final
