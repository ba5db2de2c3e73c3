"""Fixtures of the workers tests: one ``workers=2`` server shared by the module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workers.procs import WorkersServer


@pytest.fixture(scope="module")
def server() -> Iterator[WorkersServer]:
    """A running ``workers=2`` server (stopped by PID at the end of the module)."""
    started = WorkersServer(2).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def own_server() -> Iterator[WorkersServer]:
    """A ``workers=2`` server of this test's own (it gets killed, drained or rolled)."""
    started = WorkersServer(2).start()
    try:
        yield started
    finally:
        started.stop()
