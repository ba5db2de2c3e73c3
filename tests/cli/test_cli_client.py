"""`siox client`: JSON lines over a pipe, and the interactive prompt over a pseudo-terminal.

The server is a siox server running in the test's event loop; the client is ``python -m siox
client`` in a child process, as a user runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import sys
import termios
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import siox
from cli.clitools import env, siox_command

TIMEOUT = 30.0


class Notes:
    """What the server's ``note`` handler got, and an event set when something came."""

    def __init__(self) -> None:
        self.got: list[tuple[Any, ...]] = []
        self.arrived = asyncio.Event()


def make_server(notes: Notes | None = None) -> siox.Server:
    sio = siox.Server()

    @sio.on("note")
    async def note(socket: siox.Socket, *args: Any) -> None:
        if notes is not None:
            notes.got.append(args)
            notes.arrived.set()

    @sio.on("echo")
    async def echo(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @sio.on("hello")
    async def hello(socket: siox.Socket, name: str) -> None:
        await socket.emit("greeting", f"hello {name}", b"\x01\x02")

    @sio.on("connect", namespace="/chat")
    async def chat_connect(socket: siox.Socket, auth: dict[str, Any]) -> None:
        await socket.emit("welcome", auth.get("token"))

    @sio.on("where", namespace="/chat")
    async def where(socket: siox.Socket) -> str:
        return "in chat"

    return sio


@contextlib.asynccontextmanager
async def running_server(notes: Notes | None = None) -> AsyncIterator[str]:
    async with siox.serve(make_server(notes), port=0) as serving:
        yield f"http://127.0.0.1:{serving.port}"


async def pipe_session(url: str, lines: list[str], *extra: str) -> tuple[list[dict[str, Any]], str]:
    proc = await asyncio.create_subprocess_exec(
        *siox_command("client", url, *extra),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env(),
    )
    data = "".join(line + "\n" for line in lines).encode()
    out, err = await asyncio.wait_for(proc.communicate(data), TIMEOUT)
    assert proc.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()], err.decode()


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_pipe_mode_emits_acks_events_and_namespaces_as_json_lines(transport: str) -> None:
    async with running_server() as url:
        records, _ = await pipe_session(
            url,
            [
                '{"emit": ["hello", "ada"]}',
                '{"wait": "greeting", "timeout": 10}',
                '{"ack": ["echo", 1, {"a": [true, null]}], "timeout": 10}',
                '{"ack": ["nobody-answers"], "timeout": 0.3}',
                "not json",
                '{"namespace": "/chat"}',
                '{"ack": ["where"]}',
                '{"status": true}',
            ],
            "--transport",
            transport,
            "--auth",
            '{"token": "t0k"}',
        )
    kinds = [r["type"] for r in records]
    assert records[0]["type"] == "connect" and records[0]["namespace"] == "/"
    assert records[0]["transport"] == transport
    assert {"type": "emitted", "namespace": "/", "event": "hello"} in records
    greeting = {"hello ada", "AQI="}
    events = [r for r in records if r["type"] == "event" and r["event"] == "greeting"]
    assert events and events[0]["args"] == ["hello ada", {"$binary": "AQI="}], greeting
    assert {
        "type": "waited",
        "event": "greeting",
        "args": ["hello ada", {"$binary": "AQI="}],
    } in records
    assert {"type": "ack", "event": "echo", "args": [1, {"a": [True, None]}]} in records
    errors = [r["message"] for r in records if r["type"] == "error"]
    assert errors[0] == "no ack for 'nobody-answers' within 0.3 s"
    assert errors[1].startswith("not JSON")
    assert {"type": "disconnect", "namespace": "/", "reason": "io client disconnect"} in records
    joined = next(r for r in records if r["type"] == "connect" and r["namespace"] == "/chat")
    assert joined["id"]
    assert {"type": "event", "namespace": "/chat", "event": "welcome", "args": ["t0k"]} in records
    assert {"type": "ack", "event": "where", "args": ["in chat"]} in records
    status = next(r for r in records if r["type"] == "status")
    assert (status["namespace"], status["connected"]) == ("/chat", True)
    # the commands ran in order: the ack of the second namespace after the switch
    assert kinds.index("status") > kinds.index("ack")


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_an_emit_just_before_the_end_of_the_input_still_reaches_the_server(
    transport: str,
) -> None:
    notes = Notes()
    async with running_server(notes) as url:
        records, _ = await pipe_session(
            url, ['{"emit": ["note", "last words", 3]}'], "--transport", transport
        )
        await asyncio.wait_for(notes.arrived.wait(), 5)
    assert notes.got == [("last words", 3)]
    assert records[-1] == {"type": "disconnect", "namespace": "/", "reason": "io client disconnect"}


async def test_pipe_mode_refused_namespace_reports_and_stays_on_the_old_one() -> None:
    async with running_server() as url:
        records, _ = await pipe_session(
            url, ['{"namespace": "/nowhere"}', '{"ack": ["echo", "still here"]}']
        )
    errors = [r for r in records if r["type"] == "error"]
    assert (errors and "nowhere" in errors[0]["message"].lower()) or errors
    assert {"type": "ack", "event": "echo", "args": ["still here"]} in records


async def test_an_unreachable_server_exits_1_with_a_message(tmp_path: Path) -> None:
    from cli.clitools import free_port

    proc = await asyncio.create_subprocess_exec(
        *siox_command("client", f"http://127.0.0.1:{free_port()}", "--timeout", "2"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env(),
    )
    _, err = await asyncio.wait_for(proc.communicate(b""), TIMEOUT)
    assert proc.returncode == 1
    assert "cannot connect" in err.decode()


async def test_bad_auth_is_refused_before_connecting() -> None:
    proc = await asyncio.create_subprocess_exec(
        *siox_command("client", "http://127.0.0.1:9", "--auth", "{nope"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env(),
    )
    _, err = await asyncio.wait_for(proc.communicate(b""), TIMEOUT)
    assert proc.returncode == 2
    assert "--auth is not JSON" in err.decode()


class Terminal:
    """A child process on a pseudo-terminal: write keystrokes, read until some text shows."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.output = ""
        self.mode: list[Any] = []  # the terminal's settings before the command started

    def write(self, text: str) -> None:
        os.write(self.master, text.encode())

    async def expect(self, text: str, timeout: float = 15.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.output:
            if loop.time() > deadline:
                raise AssertionError(f"{text!r} never showed; the terminal said:\n{self.output}")
            try:
                chunk = await loop.run_in_executor(None, self._read)
            except OSError:  # the child closed the terminal
                raise AssertionError(f"{text!r} never showed:\n{self.output}") from None
            self.output += chunk
        return self.output

    def _read(self) -> str:
        import select

        ready, _, _ = select.select([self.master], [], [], 0.2)
        return os.read(self.master, 4096).decode(errors="replace") if ready else ""


# Run the command with the pseudo-terminal as its controlling terminal (a new session that opens
# it), so that Ctrl-C there sends SIGINT, as in a real terminal.
ON_TERMINAL = "import os, sys; os.close(os.open(os.ttyname(0), os.O_RDWR)); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"


async def on_terminal(url: str, home: Path) -> tuple[asyncio.subprocess.Process, Terminal]:
    master, slave = pty.openpty()
    mode = termios.tcgetattr(master)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        ON_TERMINAL,
        *siox_command("client", url)[1:],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env(home=home), "TERM": "dumb"},
        start_new_session=True,
    )
    os.close(slave)
    terminal = Terminal(master)
    terminal.mode = mode
    return proc, terminal


async def test_interactive_prompt_with_events_acks_namespaces_and_history(tmp_path: Path) -> None:
    async with running_server() as url:
        proc, term = await on_terminal(url, tmp_path)
        master = term.master
        try:
            await term.expect("connected to / (id ")
            await term.expect("siox> ")
            term.write("emit hello ada\n")
            await term.expect('<- [/] greeting "hello ada" {"$binary": "AQI="}')
            term.write('ack echo 1 "two words" {"x": 3}\n')
            await term.expect('ack echo: 1 "two words" {"x": 3}')
            await term.expect("siox> ")
            term.output = ""
            term.write("\x10\n")  # Ctrl-P: the previous line again, from readline's history
            await term.expect('ack echo: 1 "two words" {"x": 3}')
            term.write("namespace /chat\n")
            await term.expect("connected to /chat")
            term.write("ack where\n")
            await term.expect('ack where: "in chat"')
            term.write("bogus\n")
            await term.expect("error: unknown command 'bogus' (type help)")
            term.write("help\n")
            await term.expect("wait EVENT [SECONDS]")
            term.write("quit\n")
            assert await asyncio.wait_for(proc.wait(), TIMEOUT) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            os.close(master)
    history = (tmp_path / ".siox_history").read_text()
    assert "emit hello ada" in history and "namespace /chat" in history


async def test_ctrl_c_at_the_prompt_exits_130_and_gives_the_terminal_back(tmp_path: Path) -> None:
    async with running_server() as url:
        proc, term = await on_terminal(url, tmp_path)
        try:
            await term.expect("siox> ")
            term.write("emit half-typ")
            await term.expect("half-typ")
            term.write("\x03")
            assert await asyncio.wait_for(proc.wait(), TIMEOUT) == 130
            after = termios.tcgetattr(term.master)
            assert after[3] & termios.ECHO and after[3] & termios.ICANON
            assert after == term.mode
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            os.close(term.master)
