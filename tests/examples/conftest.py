"""Fixtures of the example tests: each example runs as a user runs it, in its own process.

`run_example` starts ``examples/<script> --port 0``, reads the URL the example prints when it
is listening, and stops it with SIGINT (it must exit cleanly); `load_example` imports an
example's module for the tests of its plain functions.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
START_TIMEOUT = 20.0
_LISTENING = re.compile(r"listening on (http://[\w.]+:(\d+))")


@contextlib.contextmanager
def running_example(script: str, *args: str) -> Iterator[str]:
    """Run ``examples/<script>`` with ``--port 0``; yield the URL it prints; stop it by SIGINT.

    Raises:
        AssertionError: it did not print its URL in time, or did not exit cleanly when stopped.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / script), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    found: list[str] = []
    output: list[str] = []
    printed = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = _LISTENING.search(line)
            if match and not found:
                found.append(match[1])
                printed.set()
        printed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        printed.wait(START_TIMEOUT)
        assert found, f"{script} printed no URL:\n{''.join(output)}"
        yield found[0]
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=15)
        reader.join(5)
        assert code == 0, f"{script} exited with {code}:\n{''.join(output)}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(5)
        process.stdout.close()


@pytest.fixture
def run_example() -> Callable[..., AbstractContextManager[str]]:
    """`running_example`: ``with run_example("x/app.py", *args) as url: ...``."""
    return running_example


def _load(script: str) -> ModuleType:
    name = "example_" + script.replace("/", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load_example() -> Callable[[str], ModuleType]:
    """Import ``examples/<script>`` as a module (not as ``__main__``)."""
    return _load
