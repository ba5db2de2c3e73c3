"""The official socket.io-protocol and engine.io-protocol suites, at their pinned commits, pass.

Each test starts a server process (the siox app of tests/interop/siox_app.py, or with
``SIOX_CONFORMANCE_REFERENCE=1`` also the Node reference server, our control), runs one suite
against it through run_suite.py, and stops the process by its PID. The siox runs are skipped
while siox has no Server / EngineServer; every run is skipped when the suite cannot be prepared
on this machine (no mirror of the suite's repository, no node or npm).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from conformance import run_suite
from interop.server_process import (
    ServerKind,
    ServerProcess,
    server_config_for_suite,
    siox_missing_names,
)

pytestmark = [
    pytest.mark.interop,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js"),
    pytest.mark.timeout(240),  # a suite takes ~5-10 s; the v3 one may rerun its racy test
]

SUITE_BUDGET = 120.0  # seconds one suite may take, reruns of known races included
REFERENCE_ENV = "SIOX_CONFORMANCE_REFERENCE"


@pytest.fixture(params=["siox", "reference"])
def server_kind(request: pytest.FixtureRequest) -> ServerKind:
    """Which implementation serves the suite."""
    kind: ServerKind = request.param
    if kind == "reference" and os.environ.get(REFERENCE_ENV) != "1":
        pytest.skip(f"the Node reference runs only with {REFERENCE_ENV}=1")
    return kind


@pytest.fixture
def prepared_suite(suite: str) -> str:
    """The suite's name, once it is extracted and installed (skips when it cannot be)."""
    try:
        run_suite.prepare(run_suite.SUITES[suite])
    except run_suite.SuiteUnavailable as exc:
        pytest.skip(f"the {suite} suite cannot run here: {exc}")
    return suite


@pytest.fixture
def suite_server(prepared_suite: str, server_kind: ServerKind) -> Iterator[str]:
    """A fresh server for the suite; yields its URL."""
    suite = prepared_suite
    config = server_config_for_suite(server_kind, suite)
    if server_kind == "siox":
        missing = siox_missing_names(config.app)
        if missing:
            pytest.skip(
                f"siox has no {', '.join(missing)} yet (the server is being built); "
                f"the siox run of the {suite} suite waits for it"
            )
    with ServerProcess(config) as server:
        yield server.url


@pytest.mark.parametrize("suite", sorted(run_suite.SUITES))
def test_official_suite_passes(suite: str, suite_server: str) -> None:
    report: dict[str, Any] = run_suite.run(suite, suite_server)
    if report["status"] == "unavailable":
        pytest.skip(f"the {suite} suite cannot run here: {report['reason']}")
    summary = run_suite.summary(report)
    assert report["duration_s"] < SUITE_BUDGET, f"too slow ({report['duration_s']} s): {summary}"
    assert report["status"] == "passed", summary
    expected = run_suite.SUITES[suite]
    assert report["passed"] == expected.expected_total - expected.expected_pending, summary
