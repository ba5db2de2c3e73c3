"""`Pump`: outputs before events, until nothing is left; not re-entrant; one timer, moved only
when the deadline moved, none once the core is closed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from siox.core import Pump


class Timer:
    def __init__(self, when: float, callback: Callable[[], object]) -> None:
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
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


class Core:
    """A scripted core: each `drain` gives the next batch; `handle_timer` records its call."""

    def __init__(self, batches: list[tuple[list[Any], list[Any]]]) -> None:
        self.batches = batches
        self.deadline: float | None = 10.0
        self.closed = False
        self.fired: list[float] = []

    def drain(self) -> tuple[list[Any], list[Any]] | None:
        return self.batches.pop(0) if self.batches else None

    def next_deadline(self) -> float | None:
        return self.deadline

    def handle_timer(self, now: float) -> None:
        self.fired.append(now)


def test_outputs_go_before_events_and_the_pump_drains_until_nothing_is_left() -> None:
    seen: list[str] = []
    core = Core([(["o1"], ["e1"]), ([], ["e2"]), (["o2"], [])])
    pump = Pump(core, lambda outs: seen.extend(outs), lambda evs: seen.extend(evs), Clock())
    pump()
    assert seen == ["o1", "e1", "e2", "o2"]


def test_an_input_made_while_reporting_is_picked_up_by_the_running_loop() -> None:
    seen: list[str] = []
    core = Core([([], ["first"])])
    clock = Clock()

    def report(events: list[Any]) -> None:
        seen.extend(events)
        if events == ["first"]:
            core.batches.append((["written by a handler"], []))
            pump()  # re-entered: returns at once, the outer loop drains it

    pump = Pump(core, lambda outs: seen.extend(outs), report, clock)
    pump()
    assert seen == ["first", "written by a handler"]
    assert clock.armed() == [10.0]  # armed once, by the outer call


def test_the_timer_moves_only_when_the_deadline_moves_and_fires_handle_timer() -> None:
    core = Core([])
    clock = Clock()
    pump = Pump(core, lambda outs: None, lambda evs: None, clock)
    pump()
    pump()
    assert clock.armed() == [10.0] and len(clock.timers) == 1
    core.deadline = 5.0
    pump()
    assert clock.armed() == [5.0] and pump.deadline == 5.0
    clock.now = 5.0
    clock.timers[-1].callback()
    assert core.fired == [5.0]
    assert clock.armed() == [5.0]  # the deadline did not move: re-armed at the same time
    core.deadline = None
    pump()
    assert clock.armed() == [] and pump.deadline is None


def test_a_closed_core_keeps_no_timer() -> None:
    core = Core([])
    clock = Clock()
    pump = Pump(core, lambda outs: None, lambda evs: None, clock)
    pump()
    core.closed = True
    pump.cancel()
    core.deadline = 1.0
    pump()
    assert clock.armed() == []
