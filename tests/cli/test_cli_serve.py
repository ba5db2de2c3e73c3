"""`siox serve module:app`: loading the application, running it, ``--reload``, errors."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

import siox
from cli.clitools import env, free_port, siox_command, wait_listening
from siox.cli.serve import AppError, load_app, run_options

TIMEOUT = 30.0

APP = """
import siox

VERSION = {version}
sio = siox.Server()


@sio.on("version")
async def version(socket):
    return VERSION


def make_server():
    return sio


engine = siox.EngineServer()
not_a_server = 42


def needs_arguments(a):
    return sio
"""


def write_app(folder: Path, version: int, name: str = "myapp.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(APP.format(version=version)))
    return path


async def ask_version(port: int) -> int:
    async with siox.connect(f"http://127.0.0.1:{port}", wait_timeout=10) as socket:
        reply = await socket.emit_with_ack("version", timeout=5)
        assert isinstance(reply, int)
        return reply


async def stop(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
        try:
            return await asyncio.wait_for(proc.wait(), TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
    return proc.returncode


@pytest.mark.parametrize("attr", ["sio", "make_server"])
async def test_serve_runs_a_server_or_a_factory_until_interrupted(
    tmp_path: Path, attr: str
) -> None:
    write_app(tmp_path, 1)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *siox_command("serve", f"myapp:{attr}", "--port", str(port), "--log-level", "info"),
        cwd=tmp_path,
        env=env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_listening(port)
        assert await ask_version(port) == 1
    finally:
        assert await stop(proc) == 0
    assert proc.stdout is not None and proc.stderr is not None
    out, err = await proc.stdout.read(), await proc.stderr.read()
    assert f"serving myapp:{attr} on http://127.0.0.1:{port}" in out.decode()
    assert f"siox serving on 127.0.0.1:{port}" in err.decode()  # the info log


async def test_log_level_warning_hides_the_info_lines(tmp_path: Path) -> None:
    write_app(tmp_path, 1)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *siox_command("serve", "myapp:sio", "--port", str(port), "--log-level", "warning"),
        cwd=tmp_path,
        env=env(),
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_listening(port)
    finally:
        await stop(proc)
    assert proc.stderr is not None
    assert "INFO" not in (await proc.stderr.read()).decode()


def test_load_app_finds_servers_and_factories_and_explains_mistakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(sys.modules, "loadme", None)
    del sys.modules["loadme"]  # restored (removed) after the test by monkeypatch
    write_app(tmp_path, 1, "loadme.py")
    assert isinstance(load_app("loadme:sio", str(tmp_path)), siox.Server)
    assert isinstance(load_app("loadme:make_server", str(tmp_path)), siox.Server)
    assert isinstance(load_app("loadme:engine", str(tmp_path)), siox.EngineServer)
    with pytest.raises(AppError, match="expected MODULE:APP"):
        load_app("loadme", str(tmp_path))
    with pytest.raises(AppError, match="cannot import 'nowhere_to_be_found'"):
        load_app("nowhere_to_be_found:sio", str(tmp_path))
    with pytest.raises(AppError, match="has no attribute 'missing'"):
        load_app("loadme:missing", str(tmp_path))
    with pytest.raises(AppError, match=r"is a int, not a siox\.Server"):
        load_app("loadme:not_a_server", str(tmp_path))
    with pytest.raises(AppError, match="called with no arguments"):
        load_app("loadme:needs_arguments", str(tmp_path))
    with pytest.raises(AppError, match="plain function, not async"):
        load_app("loadme:version", str(tmp_path))


async def test_a_bad_app_exits_2_with_the_reason(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *siox_command("serve", "nothere:sio"),
        cwd=tmp_path,
        env=env(),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 2
    assert "siox serve: cannot import 'nothere'" in err.decode()


async def test_a_taken_port_exits_1_with_the_reason(tmp_path: Path) -> None:
    write_app(tmp_path, 1)
    async with await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0) as taken:
        port = taken.sockets[0].getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            *siox_command("serve", "myapp:sio", "--port", str(port)),
            cwd=tmp_path,
            env=env(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 1
    assert f"siox serve: cannot listen on 127.0.0.1:{port}" in err.decode()


def test_workers_go_to_run_only_when_run_takes_them() -> None:
    assert run_options(1) == {}
    with pytest.raises(AppError, match="must be 1 or more"):
        run_options(0)
    if "workers" in inspect.signature(siox.run).parameters:
        assert run_options(3) == {"workers": 3}
    else:
        with pytest.raises(AppError, match=r"workers > 1 not supported yet"):
            run_options(3)


async def test_reload_restarts_the_server_when_a_py_file_changes(tmp_path: Path) -> None:
    app = write_app(tmp_path, 1)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *siox_command("serve", "myapp:sio", "--port", str(port), "--reload"),
        cwd=tmp_path,
        env=env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        await wait_listening(port)
        assert await ask_version(port) == 1
        write_app(tmp_path, 2)
        later = time.time_ns() + 2_000_000_000  # a clearly newer mtime, whatever the clock
        os.utime(app, ns=(later, later))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        version = 1
        while version != 2:
            assert loop.time() < deadline, "the server was not restarted"
            await asyncio.sleep(0.3)
            try:
                version = await ask_version(port)
            except (siox.SioxError, OSError, TimeoutError):
                continue
    finally:
        code = await stop(proc)
    assert code == 0
    assert proc.stderr is not None
    err = (await proc.stderr.read()).decode()
    assert "myapp.py changed, restarting" in err
    with pytest.raises(OSError):  # the child went with the parent
        await asyncio.open_connection("127.0.0.1", port)


async def test_reload_waits_out_a_broken_app_and_starts_it_once_fixed(tmp_path: Path) -> None:
    app = tmp_path / "myapp.py"
    app.write_text("def broken(:\n")
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *siox_command("serve", "myapp:sio", "--port", str(port), "--reload"),
        cwd=tmp_path,
        env=env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stderr is not None
    try:
        seen = b""
        async with asyncio.timeout(TIMEOUT):
            while b"the server stopped; waiting for a change" not in seen:
                seen += await proc.stderr.readline()
        assert b"SyntaxError" in seen
        assert proc.returncode is None  # the supervisor stays
        write_app(tmp_path, 7)
        later = time.time_ns() + 2_000_000_000
        os.utime(app, ns=(later, later))
        await wait_listening(port, TIMEOUT)
        assert await ask_version(port) == 7
    finally:
        assert await stop(proc) == 0
