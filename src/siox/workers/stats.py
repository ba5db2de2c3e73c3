"""What one worker process counts about itself (for operators, and for tests)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WorkerStats", "current"]


@dataclass
class WorkerStats:
    """The counters of the worker process this code runs in.

    Attributes:
        index: the index this worker's session ids carry (`siox.workers.ids`).
        slot: which of the ``count`` workers this is (0 .. count - 1; a replacement takes the
            slot of the worker it replaces, with another index).
        count: how many workers serve the port.
        node: this machine's node id when requests are forwarded between machines, else "".
        own_requests: requests for this worker's own sessions that reached it on a connection
            it holds (accepted, or handed in: the first request of those counts too).
        handed_out: connections this worker handed to the worker owning their session.
        handed_in: connections this worker received from another worker.
        handoff_failures: handoffs that could not be delivered (the connection was closed).
        forwarded_out: requests this worker forwarded to another machine's worker.
        forwarded_in: requests another machine forwarded to this worker.
    """

    index: int = 0
    slot: int = 0
    count: int = 1
    node: str = ""
    own_requests: int = 0
    handed_out: int = 0
    handed_in: int = 0
    handoff_failures: int = 0
    forwarded_out: int = 0
    forwarded_in: int = 0


_CURRENT: WorkerStats | None = None


def current() -> WorkerStats | None:
    """The counters of this worker process, or None when not running under ``workers=N``."""
    return _CURRENT


def install(stats: WorkerStats) -> None:
    """Make ``stats`` this process's counters (done once, in each worker)."""
    global _CURRENT
    _CURRENT = stats
