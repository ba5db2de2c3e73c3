"""examples/sync_script: a blocking SyncClient script against the background task example."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "sync_script" / "script.py"


def test_the_script_prints_ticks_and_the_status_then_exits(
    run_example: Callable[..., AbstractContextManager[str]],
) -> None:
    with run_example("background_task/app.py", "--interval", "0.05") as url:
        done = subprocess.run(
            [sys.executable, str(SCRIPT), url, "--ticks", "3"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("connected as ")
    counts = [int(line.split()[1]) for line in lines[1:4]]
    assert [line.split()[0] for line in lines[1:4]] == ["tick"] * 3
    assert counts == list(range(counts[0], counts[0] + 3))
    assert re.fullmatch(r"status \{'count': \d+, 'subscribers': 1\}", lines[4])


def test_the_script_fails_clearly_when_no_server_answers() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("failed: NotConnected(")
