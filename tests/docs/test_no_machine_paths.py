"""No committed file names a path of one particular machine or the project's private notes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Spelled in pieces so that this file does not name them itself.
EVERYWHERE = [
    "/" + "work/",
    "/" + "root/",
    "../" + "shared",
    "shared" + "/design",
    "shared" + "/spec",
]
OUTSIDE_TESTS = ["/" + "tmp/"]  # tests may use the system's temporary folder at run time


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_tracked_file_names_a_machine_path() -> None:
    found: list[str] = []
    for path in tracked_files():
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        relative = path.relative_to(ROOT).as_posix()
        needles = EVERYWHERE + ([] if relative.startswith("tests/") else OUTSIDE_TESTS)
        for number, line in enumerate(text.splitlines(), 1):
            found.extend(f"{relative}:{number}: {line.strip()}" for n in needles if n in line)
    assert not found, "\n".join(found)
