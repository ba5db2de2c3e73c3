"""Every code block of README.md, docs/ and the examples' READMEs runs, so none can rot.

A ```python block runs as a script of its own, in a fresh interpreter, in an empty folder, and
must exit with 0 within `RUN_TIMEOUT` seconds: blocks that start a server run a round trip on
port 0 (or `siox.testing`) inside ``asyncio.run`` and return. Two markers, an HTML comment on
the line before the block, change that:

* ``<!-- server: port=3000 -->``: the block serves until stopped (``siox.run``). The test runs it
  with that port replaced by a free one, waits for an Engine.IO handshake to answer, sends
  SIGINT and expects a clean exit.
* ``<!-- not-run: reason -->``: a fragment shown for its shape (it needs Redis, or the names of
  the block before it). These are counted and capped (`MAX_NOT_RUN`) so that they stay few.

Shell blocks are not run; the repository files they name (``scripts/...``, ``examples/...``)
and the ``.venv/bin/`` tools they call must exist. Tests named in the docs as ``tests/path.py::test_name`` must exist too, so the
security page cannot cite a test that was renamed away.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "examples").rglob("*.md")),
]
RUN_TIMEOUT = 60.0
MAX_NOT_RUN = 12

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>not-run|server)\s*:\s*(?P<note>.*?)\s*-->\s*$")
_REPO_PATH = re.compile(r"(?<![\w./-])((?:scripts|examples|fuzz|bench|tests)/[\w./-]*\w)")
_VENV_TOOL = re.compile(r"\.venv/bin/([\w.-]+)")
_TEST_REF = re.compile(r"(tests/[\w/]+\.py)::(test_\w+)")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int
    lang: str
    code: str
    kind: str | None  # None (run it), "not-run" or "server"
    note: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def parse_blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path``, each with the marker on the line before it, if any."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = len(opening["indent"])
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and not re.match(r"^\s*```\s*$", lines[index]):
            body.append(lines[index][indent:])
            index += 1
        if index == len(lines):
            raise AssertionError(f"{path}:{start + 1}: unclosed code fence")
        index += 1
        previous = lines[start - 1] if start > 0 else ""
        marker = _MARKER.match(previous)
        blocks.append(
            Block(
                path,
                start + 1,
                opening["lang"].lower(),
                "\n".join(body) + "\n",
                marker["kind"] if marker else None,
                marker["note"] if marker else "",
            )
        )
    return blocks


ALL_BLOCKS = [block for path in SOURCES for block in parse_blocks(path)]
PYTHON = [block for block in ALL_BLOCKS if block.lang in ("python", "py")]
RUN = [block for block in PYTHON if block.kind is None]
SERVE = [block for block in PYTHON if block.kind == "server"]
SHELL = [block for block in ALL_BLOCKS if block.lang in ("bash", "sh", "shell", "console")]


def _run_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _tail(text: str) -> str:
    return text[-3000:]


@pytest.mark.parametrize("block", RUN, ids=[block.name for block in RUN])
def test_python_block_runs_to_completion(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(block.code, encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=_run_env(),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{block.name} still running after {RUN_TIMEOUT} s") from exc
    assert done.returncode == 0, f"{block.name} failed:\n{_tail(done.stdout)}\n{_tail(done.stderr)}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _handshake(port: int, deadline: float) -> str:
    url = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body: str = response.read().decode()
                return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("block", SERVE, ids=[block.name for block in SERVE])
def test_server_block_serves_until_interrupted(block: Block, tmp_path: Path) -> None:
    marker = re.fullmatch(r"port=(\d+)", block.note)
    assert marker is not None, f"{block.name}: the server marker is 'server: port=N'"
    written = f"port={marker[1]}"
    assert written in block.code, f"{block.name} does not contain {written!r}"
    port = _free_port()
    script = tmp_path / "block.py"
    script.write_text(block.code.replace(written, f"port={port}"), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_run_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = _handshake(port, time.monotonic() + 20)
        assert body.startswith('0{"sid":'), body
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, f"{block.name} exited {process.returncode}:\n{out}\n{err}"


def test_fragments_that_are_not_run_are_few_and_say_why() -> None:
    skipped = [block for block in PYTHON if block.kind == "not-run"]
    assert all(block.note for block in skipped)
    assert len(skipped) <= MAX_NOT_RUN, [block.name for block in skipped]
    assert len(RUN) >= 15, "the docs' runnable examples were not found"


def test_every_marker_stands_before_a_python_block() -> None:
    marked = {(block.path, block.line - 1) for block in PYTHON if block.kind}
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _MARKER.match(line):
                assert (path, number) in marked, f"{path}:{number}: marker without a python block"


@pytest.mark.parametrize("block", SHELL, ids=[block.name for block in SHELL])
def test_repository_files_named_by_shell_blocks_exist(block: Block) -> None:
    venv_bin = Path(sys.executable).parent  # the development virtualenv's tools
    for line in block.code.splitlines():
        command = line.split("#", 1)[0]
        for path in _REPO_PATH.findall(command):
            assert (ROOT / path).exists(), f"{block.name}: {path} does not exist"
        for tool in _VENV_TOOL.findall(command):
            assert (venv_bin / tool).exists(), f"{block.name}: .venv/bin/{tool} is not installed"


def test_tests_named_in_the_docs_exist() -> None:
    cited = 0
    for path in SOURCES:
        for file, name in _TEST_REF.findall(path.read_text(encoding="utf-8")):
            source = ROOT / file
            assert source.exists(), f"{path.name} cites {file}, which does not exist"
            assert re.search(rf"def {name}\(", source.read_text(encoding="utf-8")), (
                f"{path.name} cites {file}::{name}, which does not exist"
            )
            cited += 1
    assert cited >= 15, "the security page names the tests that prove each limit"
