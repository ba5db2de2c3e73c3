"""Helpers of the `siox` command's tests: run ``python -m siox`` and a server to talk to."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def env(home: Path | None = None) -> dict[str, str]:
    """The environment of a ``python -m siox`` child (siox importable, unbuffered)."""
    result = dict(os.environ)
    result["PYTHONPATH"] = str(SRC) + os.pathsep + result.get("PYTHONPATH", "")
    result["PYTHONUNBUFFERED"] = "1"
    if home is not None:
        result["HOME"] = str(home)
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def siox_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "siox", *args]


async def wait_listening(port: int, timeout: float = 20.0) -> None:
    """Until something accepts connections on ``port``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise TimeoutError(f"nothing listens on {port}") from None
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
