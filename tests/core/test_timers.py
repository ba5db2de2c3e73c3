"""`TimerQueue`: many timers behind one timer of the clock, called in deadline order, at their
time and not before; cancelled ones never called, and compacted away."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from hypothesis import given, settings, strategies as st

from siox.core.timers import TimerQueue


class Timer:
    def __init__(self, when: float, callback: Callable[[], object]) -> None:
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """A manual clock: `advance` calls the due timers in deadline order."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[Timer] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        timer = Timer(when, callback)
        self.timers.append(timer)
        return timer

    def armed(self) -> list[float]:
        return [t.when for t in self.timers if not t.cancelled]

    def advance(self, to: float) -> None:
        while True:
            due = [t for t in self.timers if not t.cancelled and t.when <= to]
            if not due:
                break
            timer = min(due, key=lambda t: t.when)
            self.now = max(self.now, timer.when)
            timer.cancelled = True
            timer.callback()
        self.now = to


def test_one_clock_timer_at_the_earliest_deadline() -> None:
    clock = Clock()
    queue = TimerQueue(clock)
    queue.call_at(25.0, lambda: None)
    queue.call_at(30.0, lambda: None)
    assert clock.armed() == [25.0]
    queue.call_at(5.0, lambda: None)
    assert clock.armed() == [5.0]  # moved earlier; a later deadline never touches the clock
    assert len(queue) == 3


def test_callbacks_run_in_deadline_order_and_not_before_their_time() -> None:
    clock = Clock()
    queue = TimerQueue(clock)
    calls: list[tuple[str, float]] = []
    for name, when in (("c", 3.0), ("a", 1.0), ("b", 2.0), ("b2", 2.0)):
        queue.call_at(when, partial(lambda n: calls.append((n, clock.now)), name))
    clock.advance(1.5)
    assert calls == [("a", 1.0)]
    clock.advance(10.0)
    assert calls[0] == ("a", 1.0) and calls[-1] == ("c", 3.0)
    assert sorted(calls[1:3]) == [("b", 2.0), ("b2", 2.0)]
    assert len(queue) == 0 and clock.armed() == []


def test_a_cancelled_timer_is_never_called() -> None:
    clock = Clock()
    queue = TimerQueue(clock)
    calls: list[str] = []
    first = queue.call_at(1.0, lambda: calls.append("first"))
    queue.call_at(2.0, lambda: calls.append("second"))
    first.cancel()
    first.cancel()  # twice: still one cancellation
    assert len(queue) == 1
    clock.advance(5.0)
    assert calls == ["second"]


def test_a_timer_added_by_a_callback_runs_at_its_own_time() -> None:
    clock = Clock()
    queue = TimerQueue(clock)
    calls: list[float] = []

    def again() -> None:
        calls.append(clock.now)
        if len(calls) < 3:
            queue.call_later(10.0, again)

    queue.call_at(1.0, again)
    clock.advance(100.0)
    assert calls == [1.0, 11.0, 21.0]


def test_a_callback_that_raises_does_not_stop_the_others() -> None:
    clock = Clock()
    queue = TimerQueue(clock)
    calls: list[str] = []

    def boom() -> None:
        raise RuntimeError("boom")

    queue.call_at(1.0, boom)
    queue.call_at(1.0, lambda: calls.append("after"))
    queue.call_at(3.0, lambda: calls.append("later"))
    with pytest.raises(RuntimeError, match="boom"):  # to the clock, as a loop timer's would
        clock.advance(2.0)
    assert calls == ["after"]
    clock.advance(4.0)  # the queue's timer is still armed
    assert calls == ["after", "later"]


def test_cancelled_entries_are_compacted_away() -> None:
    clock = Clock()
    queue = TimerQueue(clock)
    for i in range(1000):
        queue.call_at(100.0 + i, lambda: None).cancel()
    queue.call_at(50.0, lambda: None)
    assert len(queue) == 1
    assert len(queue._heap) < 200  # the heap does not keep a thousand cancelled entries


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.booleans(), st.integers(0, 60)), min_size=1, max_size=30
    )
)
def test_same_calls_as_one_clock_timer_each(plan: list[tuple[int, bool, int]]) -> None:
    """Against the clock's own timers: the same callbacks, at the same times, in order."""
    direct, queued = Clock(), Clock()
    queue = TimerQueue(queued)
    got: dict[str, list[tuple[int, float]]] = {"direct": [], "queued": []}

    def note(kind: str, clock: Clock, index: int) -> None:
        got[kind].append((index, clock.now))

    for index, (when, cancel, _) in enumerate(plan):
        a = direct.call_at(when, partial(note, "direct", direct, index))
        b = queue.call_at(when, partial(note, "queued", queued, index))
        if cancel:
            a.cancel()
            b.cancel()
    for step in sorted({advance for _, _, advance in plan}):
        direct.advance(step)
        queued.advance(step)
        assert sorted(got["queued"]) == sorted(got["direct"])
        # in deadline order (ties in no particular order, as the loop's own timers)
        deadlines = [plan[i][0] for i, _ in got["queued"]]
        assert deadlines == sorted(deadlines)
