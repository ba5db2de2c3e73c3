"""``siox serve module:app --workers 2``: the command runs the app in two workers."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

import siox
from cli.clitools import env, free_port, siox_command, wait_listening
from workers.procs import children_of

pytestmark = pytest.mark.timeout(60)

APP = """
import os
import siox

sio = siox.Server()


@sio.on("pid")
def pid(socket):
    return os.getpid()
"""


async def test_serve_with_workers_forks_them_and_stops_on_sigint(tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text(APP)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *siox_command("serve", "myapp:sio", "--port", str(port), "--workers", "2"),
        cwd=tmp_path,
        env=env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_listening(port)
        children = set()
        for _ in range(50):  # new sessions start on whichever worker accepts them
            async with siox.connect(f"http://127.0.0.1:{port}", wait_timeout=10) as socket:
                children.add(await socket.emit_with_ack("pid", timeout=5))
            if len(children) == 2:
                break
        assert children == children_of(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert proc.stderr is not None
    assert "Traceback" not in (await proc.stderr.read()).decode()
