"""`Pump`: the loop every driver runs after an input, shared by the server and the client.

A sans-I/O core answers each input with outputs and events (``drain()``) and a deadline
(``next_deadline()``). After every input its driver pumps: perform the outputs, report the
events, ask again until nothing is left, then keep one timer armed at the next deadline (moved
only when the deadline moved; none once the core is closed). Pumping is not re-entrant: an
input made while events are being reported (a handler writing back) is picked up by the loop
already running. The timer calls ``handle_timer(now)`` and pumps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Clock", "Core", "Pump"]


class Core(Protocol):
    """What a pump needs of a sans-I/O core (an Engine.IO session of either role)."""

    @property
    def closed(self) -> bool:
        """Whether the core is over (no timer is kept for it then)."""
        ...

    def drain(self) -> tuple[list[Any], list[Any]] | None:
        """The outputs and events queued since the last call; None when there are none."""
        ...

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` must be called next."""
        ...

    def handle_timer(self, now: float) -> None:
        """Fire the deadlines due at ``now``."""
        ...


class Clock(Protocol):
    """The time and timers a driver runs on (an asyncio loop, a manual clock)."""

    def time(self) -> float:
        """Now."""
        ...

    def call_at(self, when: float, callback: Callable[[], object]) -> Any:
        """Call ``callback()`` at ``when``; the result has ``cancel()``."""
        ...


class Pump:
    """Drain one core into its driver's hands and keep its timer armed.

    Args:
        core: the sans-I/O core.
        perform: called with each batch of outputs, in order (write, answer, close).
        report: called with each batch of events, after the outputs that came with them.
        clock: the time and timers.
    """

    __slots__ = ("_clock", "_core", "_perform", "_pumping", "_report", "_timer", "deadline")

    def __init__(
        self,
        core: Core,
        perform: Callable[[list[Any]], None],
        report: Callable[[list[Any]], None],
        clock: Clock,
    ) -> None:
        self._core = core
        self._perform = perform
        self._report = report
        self._clock = clock
        self._timer: Any = None
        self._pumping = False
        #: When the armed timer fires (None: no timer). Never later than the core's deadline.
        self.deadline: float | None = None

    def __call__(self) -> None:
        """Perform and report until the core has nothing left, then re-arm the timer."""
        if self._pumping:
            return  # the loop already running picks up what this input produced
        self._pumping = True
        core = self._core
        try:
            while True:
                pending = core.drain()
                if pending is None:
                    break
                outputs, events = pending
                if outputs:
                    self._perform(outputs)
                if events:
                    self._report(events)
        finally:
            self._pumping = False
        if not core.closed:
            deadline = core.next_deadline()
            if deadline != self.deadline:
                if self._timer is not None:
                    self._timer.cancel()
                self.deadline = deadline
                self._timer = None if deadline is None else self._clock.call_at(deadline, self.fire)

    def fire(self) -> None:
        """Fire the core's due deadlines now and pump (the timer's callback; callable early)."""
        self.cancel()
        self._core.handle_timer(self._clock.time())
        self()

    def cancel(self) -> None:
        """Disarm the timer (the core is closed, or about to be fired by hand)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.deadline = None
