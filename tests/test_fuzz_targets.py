"""A short run of every fuzz target (fuzz/): a few seconds each under atheris when it is
installed (coverage-guided, from a copy of the committed corpus), and always a few thousand
seeded mutations of the targets built on fuzz/fuzzkit.py. Long runs are manual (fuzz/README.md).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FUZZ = ROOT / "fuzz"
TARGETS = [
    "fuzz_parser",
    "fuzz_engineio",
    "fuzz_msgpack",
    "fuzz_websocket",
    "fuzz_http",
    "fuzz_session",
]
KIT_TARGETS = ["fuzz_websocket", "fuzz_http", "fuzz_session"]
SECONDS = int(os.environ.get("SIOX_FUZZ_SECONDS", "3"))
HAVE_ATHERIS = importlib.util.find_spec("atheris") is not None


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT / "src"), str(FUZZ), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with siox and fuzz/ importable."""
    return subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(not HAVE_ATHERIS, reason="atheris is not installed (Python < 3.12 only)")
@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_runs_clean_under_atheris(target: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(FUZZ / "corpus" / target, corpus)  # libFuzzer adds to its corpus
    done = subprocess.run(
        [sys.executable, str(FUZZ / f"{target}.py"), str(corpus), f"-max_total_time={SECONDS}"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=SECONDS + 60,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Done" in done.stderr, done.stderr[-2000:]


@pytest.mark.parametrize("target", KIT_TARGETS)
def test_fuzz_target_runs_clean_on_seeded_mutations(target: str) -> None:
    done = _python(
        f"import fuzzkit, {target} as t\nfuzzkit.loop_main(t.check, t.SEEDS, 3000, 14)\n"
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "no failure" in done.stdout


# A call chain deeper than one 16 KiB frame chunk: 200 frames of a function with a few locals.
_DEEP_CALLS = """
import resource, sys
import fuzzkit

def down(n, a=0, b=0, c=0, d=0):
    return down(n - 1, a, b, c, d) if n else 0

def inputs():
    for _ in range(2000):
        down(200)

def faults(run):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    run()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

inputs()  # warm: whatever the first run maps for good
fuzzkit.in_own_chunk(lambda: None)  # and the spacer compiled
bare = faults(inputs)
held = faults(lambda: fuzzkit.in_own_chunk(inputs))
print(bare, held)
"""


@pytest.mark.skipif(sys.version_info < (3, 11), reason="frame chunks came with CPython 3.11")
def test_fuzzer_frames_stay_in_one_data_stack_chunk() -> None:
    # Without `in_own_chunk` each deep input maps a fresh chunk (its pages fault in again);
    # under it the chain fits in the chunk its spacer frame holds for the whole run.
    done = _python(_DEEP_CALLS)
    assert done.returncode == 0, done.stderr[-4000:]
    bare, held = map(int, done.stdout.split())
    assert bare >= 2000, (bare, held)  # at least a page per input without it
    assert held < bare // 10, (bare, held)
