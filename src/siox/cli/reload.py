"""``siox serve --reload``: run the server in a child process, restart it when code changes.

The parent polls the modification times of the ``.py`` files under the application's folder
(standard library only, no inotify); on a change it stops the child (SIGTERM: a graceful
shutdown, SIGKILL after `STOP_TIMEOUT`) and starts a new one. A child that dies (a syntax
error, say) is started again at the next change. SIGINT/SIGTERM stop both.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

__all__ = ["child_command", "snapshot", "supervise", "watched_folder"]

POLL_INTERVAL = 0.5
STOP_TIMEOUT = 12.0
MAX_FILES = 20_000
_SKIPPED = {"__pycache__", "node_modules", "site-packages", "venv", "build", "dist"}


def watched_folder(spec: str, app_dir: str) -> Path:
    """The folder of the application's module (its package's top folder), or ``app_dir``."""
    top = spec.partition(":")[0].split(".")[0]
    folder = os.path.abspath(app_dir)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        found = None
    if found is not None and found.origin and found.origin not in ("built-in", "frozen"):
        return Path(found.origin).resolve().parent
    return Path(folder)


def snapshot(folder: Path) -> dict[str, int]:
    """``path -> mtime_ns`` of the ``.py`` files under ``folder`` (hidden folders skipped)."""
    times: dict[str, int] = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                try:
                    times[path] = os.stat(path).st_mtime_ns
                except OSError:
                    continue
                if len(times) >= MAX_FILES:
                    return times
    return times


def child_command(args: argparse.Namespace) -> list[str]:
    """The command line of the child: the same ``siox serve`` without ``--reload``."""
    return [
        sys.executable,
        "-m",
        "siox",
        "serve",
        args.app,
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--log-level",
        args.log_level,
        "--workers",
        str(args.workers),
        "--app-dir",
        os.path.abspath(args.app_dir),
    ]


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def supervise(args: argparse.Namespace) -> int:
    """Run and restart the child until SIGINT/SIGTERM; returns the exit status."""
    folder = watched_folder(args.app, args.app_dir)
    command = child_command(args)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"siox: watching {folder} for changes (--reload)", file=sys.stderr, flush=True)
    seen = snapshot(folder)
    child = subprocess.Popen(command)
    reported = False
    try:
        while not stopping:
            time.sleep(POLL_INTERVAL)
            if child.poll() is not None and not reported:
                print("siox: the server stopped; waiting for a change", file=sys.stderr)
                reported = True
            now = snapshot(folder)
            if now == seen:
                continue
            changed = sorted(set(now.items()) ^ set(seen.items()))
            seen = now
            print(f"siox: {changed[0][0]} changed, restarting", file=sys.stderr, flush=True)
            _stop(child)
            child = subprocess.Popen(command)
            reported = False
    finally:
        _stop(child)
    return 0
