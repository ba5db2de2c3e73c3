"""`TimerQueue`: many connections' timers on one timer of a clock.

Every connection keeps one timer armed (its heartbeat, mostly 25 s ahead), and moves it when
its deadline moves. On an event loop each is a timer handle of the loop's own (about half a
kilobyte each on uvloop, with a loop call to arm and one to cancel). A `TimerQueue` keeps them
instead in one heap of small entries and arms a single timer of the clock at the earliest
deadline: arming a deadline later than that one touches only the heap; a cancelled entry stays
in the heap, marked, until it comes up or the heap is compacted (when more than half of it is
cancelled, as asyncio does with its own timers). Due callbacks run in deadline order, those
added while they run on the next turn at the earliest; an exception a callback raises reaches
the clock (the loop's exception handler) once the other due callbacks ran. The queue is
sans-I/O: it only calls the clock it is given (an event loop, a manual clock).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["TimerClock", "TimerHandle", "TimerQueue"]


class TimerClock(Protocol):
    """The time and the one timer a `TimerQueue` needs."""

    def time(self) -> float:
        """Now."""
        ...

    def call_at(self, when: float, callback: Callable[[], object]) -> Any:
        """Call ``callback()`` at ``when``; the result has ``cancel()``."""
        ...


class _Entry:
    """One timer: ordered by its deadline (ties in no particular order, as the loop's own)."""

    __slots__ = ("callback", "queue", "when")

    def __init__(self, when: float, callback: Callable[[], object], queue: TimerQueue) -> None:
        self.when = when
        self.callback: Callable[[], object] | None = callback
        self.queue = queue

    def __lt__(self, other: _Entry) -> bool:
        return self.when < other.when

    def cancel(self) -> None:
        """Do not call the callback (a no-op once it was called or cancelled)."""
        if self.callback is not None:
            self.callback = None
            self.queue._cancelled += 1


#: What ``call_at`` returns: ``cancel()`` it to not be called.
TimerHandle = _Entry


class TimerQueue:
    """Timers of many connections behind one timer of ``clock``.

    ``call_at`` and ``call_later`` return a handle with ``cancel()``, as the loop's do.
    """

    __slots__ = ("_armed", "_armed_at", "_cancelled", "_heap", "clock", "clock_time")

    def __init__(self, clock: TimerClock) -> None:
        #: the clock the queue's one timer runs on
        self.clock = clock
        #: its ``time``, bound once (for the connections' per-message paths)
        self.clock_time: Callable[[], float] = clock.time
        self._heap: list[_Entry] = []
        self._cancelled = 0
        self._armed: Any = None
        self._armed_at: float | None = None

    def __len__(self) -> int:
        """The number of timers waiting (cancelled ones not counted)."""
        return len(self._heap) - self._cancelled

    def time(self) -> float:
        """The clock's now."""
        return self.clock.time()

    def call_at(self, when: float, callback: Callable[[], object]) -> _Entry:
        """Call ``callback()`` at ``when`` (or a little after); the result has ``cancel()``."""
        entry = _Entry(when, callback, self)
        if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
            self._compact()
        heapq.heappush(self._heap, entry)
        armed_at = self._armed_at
        if armed_at is None or when < armed_at:
            self._arm(when)
        return entry

    def call_later(self, delay: float, callback: Callable[[], object]) -> _Entry:
        """Call ``callback()`` after ``delay`` seconds; the result has ``cancel()``."""
        return self.call_at(self.clock.time() + delay, callback)

    def _compact(self) -> None:
        self._heap = [entry for entry in self._heap if entry.callback is not None]
        heapq.heapify(self._heap)
        self._cancelled = 0

    def _arm(self, when: float) -> None:
        if self._armed is not None:
            self._armed.cancel()
        self._armed_at = when
        self._armed = self.clock.call_at(when, self._run)

    def _run(self) -> None:
        self._armed = self._armed_at = None
        heap = self._heap
        now = self.clock.time()
        due = []
        while heap and heap[0].when <= now:
            entry = heapq.heappop(heap)
            callback = entry.callback
            if callback is None:
                self._cancelled -= 1
            else:
                entry.callback = None  # called: a later cancel() is a no-op
                due.append(callback)
        error: Exception | None = None
        try:
            for callback in due:
                try:
                    callback()
                except Exception as exc:  # the others still run; the first goes to the clock
                    if error is None:
                        error = exc
        finally:
            self._rearm()
        if error is not None:
            raise error

    def _rearm(self) -> None:
        heap = self._heap
        while heap and heap[0].callback is None:  # cancelled entries at the top go now
            heapq.heappop(heap)
            self._cancelled -= 1
        if heap:
            first = heap[0].when
            armed_at = self._armed_at
            if armed_at is None or first < armed_at:
                self._arm(first)
