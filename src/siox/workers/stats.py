"""What one worker process counts about itself (for operators, and for tests)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WorkerStats", "current"]


@dataclass
class WorkerStats:
    """The counters of the worker process this code runs in.

    Attributes:
        index: this worker's index (0 .. count - 1).
        count: how many workers serve the port.
        handed_out: connections this worker handed to the worker owning their session.
        handed_in: connections this worker received from another worker.
        handoff_failures: handoffs that could not be delivered (the connection was closed).
    """

    index: int = 0
    count: int = 1
    handed_out: int = 0
    handed_in: int = 0
    handoff_failures: int = 0


_CURRENT: WorkerStats | None = None


def current() -> WorkerStats | None:
    """The counters of this worker process, or None when not running under ``workers=N``."""
    return _CURRENT


def install(stats: WorkerStats) -> None:
    """Make ``stats`` this process's counters (done once, in each worker)."""
    global _CURRENT
    _CURRENT = stats
