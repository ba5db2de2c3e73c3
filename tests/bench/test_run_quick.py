"""bench/run.py --quick against siox (and Node's socket.io when installed): sane numbers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "run.py"
NODE_SOCKETIO = ROOT / "tests" / "node" / "node_modules" / "socket.io"
SCENARIOS = ["echo", "binary", "fanout", "connect", "polling"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(shutil.which("node") is None, reason="the load generator runs on Node"),
]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, int]:
    out = tmp_path_factory.mktemp("bench")
    targets = "siox,node" if NODE_SOCKETIO.exists() else "siox"
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--targets", targets, "--out", str(out)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    [results] = out.glob("*.json")
    report: dict[str, Any] = json.loads(results.read_text())
    return report, done.stdout + done.stderr, done.returncode


def test_every_case_ran_on_every_target_without_failure(quick_run) -> None:
    report, output, status = quick_run
    assert status == 0, output
    targets = set(report["meta"]["targets"])
    assert "siox" in targets
    ran = {(run["scenario"], run["target"]) for run in report["runs"]}
    assert ran == {(scenario, target) for scenario in SCENARIOS for target in targets}
    assert all("error" not in run["result"] for run in report["runs"]), output


def test_every_request_was_answered_and_every_answer_was_right(quick_run) -> None:
    report, _, _ = quick_run
    for run in report["runs"]:
        result = run["result"]
        assert result["sent"] > 0, run
        assert result["answered"] == result["sent"], run
        assert result["missing"] == 0, run
        assert result["bad"] == 0, run


def test_measures_are_sane(quick_run) -> None:
    report, _, _ = quick_run
    for run in report["runs"]:
        result = run["result"]
        assert result["throughput"] > 0, run
        assert 0 < result["p50_ms"] <= result["p99_ms"], run
        assert result["server_cpu_pct"] >= 0, run
        assert result["loadgen_cpu_pct"] > 0, run
        assert result["measure_s"] > 0, run
        if run["scenario"] == "connect":
            assert result["rss_kib_per_conn"] is not None, run


def test_the_table_and_the_ratios_come_from_the_same_medians(quick_run) -> None:
    report, output, _ = quick_run
    for row in report["summary"]:
        assert f"| {row['case']} | {row['target']} |" in output
        node = next(
            (
                other
                for other in report["summary"]
                if (other["scenario"], other["case"], other["target"])
                == (row["scenario"], row["case"], "node")
            ),
            None,
        )
        if node is None:
            assert row["ratios"]["node"] is None
        else:
            expected = row["throughput_median"] / node["throughput_median"]
            assert row["ratios"]["node"] == pytest.approx(expected, abs=0.006)
