"""Finding: under an ASGI server, shutdown waited for idle long-polls (issue 14).

uvicorn + siox.ASGIApp with one idle polling client: SIGTERM took ~25 s (until the next ping
answered the held GET) and the client then got an EOF instead of the close packet. ASGIApp now
chains a handler in front of the server's own SIGTERM/SIGINT handler and closes its sessions at
once, so the held GET is answered with the close packet and the server's drain ends at once.
Real server processes, real signals.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from rawpeer import eio_url, http, open_polling

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
START_TIMEOUT = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command(kind: str, port: int) -> list[str]:
    if kind == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", "stop_app:app", "--port", str(port),
            "--lifespan", "on", "--log-level", "warning", "--timeout-graceful-shutdown", "30",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "hypercorn", "stop_app:app", "--bind", f"127.0.0.1:{port}",
        "--graceful-timeout", "30", "--workers", "0",
    ]  # fmt: skip


async def _start(kind: str, on_signal: bool) -> tuple[asyncio.subprocess.Process, int]:
    port = _free_port()
    env = {**os.environ, "SIOX_TEST_ON_SIGNAL": "1" if on_signal else "0"}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT / "src"), env.get("PYTHONPATH", "")])
    process = await asyncio.create_subprocess_exec(
        *_command(kind, port),
        cwd=HERE,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            await open_polling(port)  # a throwaway session proves the app answers
            return process, port
        except OSError:
            await asyncio.sleep(0.1)
    process.kill()
    await process.wait()
    raise RuntimeError(f"{kind} did not start")


async def _idle_polling_client(port: int) -> asyncio.Task[str]:
    sid, _ = await open_polling(port)
    url = eio_url(f"transport=polling&sid={sid}")
    assert (await http(port, "POST", url, body=b"40")).text == "ok"
    first = await http(port, "GET", url)
    assert first.text.startswith("40"), first.text
    # The next GET is held by the server: the client is idle.
    pending = asyncio.create_task(http(port, "GET", url, timeout=40.0))
    await asyncio.sleep(0.3)
    assert not pending.done()
    return asyncio.create_task(_text(pending))


async def _text(task: asyncio.Task[object]) -> str:
    result = await task
    return str(getattr(result, "text", ""))


@pytest.mark.parametrize("kind", ["uvicorn", "hypercorn"])
async def test_asgi_sigterm_with_an_idle_long_poll_answers_it_and_exits_at_once(
    kind: str,
) -> None:
    process, port = await _start(kind, on_signal=True)
    try:
        poll = await _idle_polling_client(port)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        body = await asyncio.wait_for(poll, 10.0)
        await asyncio.wait_for(process.wait(), 10.0)
        elapsed = time.monotonic() - started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    # The held GET carries the Socket.IO disconnect and the Engine.IO close packet.
    assert body.split("\x1e")[-1] == "1", body
    assert elapsed < 5.0, elapsed
    assert process.stderr is not None
    errors = (await process.stderr.read()).decode()
    assert "Traceback" not in errors, errors


async def test_asgi_without_the_stop_signal_hook_the_poll_holds_the_shutdown() -> None:
    """What the hook avoids (and what happens with shutdown_on_signal=False): the drain waits."""
    process, port = await _start("uvicorn", on_signal=False)
    try:
        poll = await _idle_polling_client(port)
        process.send_signal(signal.SIGTERM)
        await asyncio.sleep(2.0)
        assert process.returncode is None  # still draining: the poll is held
        assert not poll.done()
    finally:
        process.kill()
        await process.wait()
        poll.cancel()
