"""`Backoff`: the reconnection delays, exponential with jitter and a cap (socket.io-client's)."""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["Backoff"]


class Backoff:
    """Delays that double from ``minimum`` up to ``maximum``, each randomised by ``jitter``.

    The n-th delay (from 0) is ``minimum * factor**n``, moved down or up (at random) by up to
    ``jitter`` times itself, then capped at ``maximum`` — the arithmetic of socket.io-client's
    ``backo2``.

    Args:
        minimum: the first delay, seconds.
        maximum: the cap, seconds.
        jitter: the randomisation factor, 0 to 1.
        factor: the growth factor (2).
        rand: the random source, returning floats in [0, 1).
    """

    def __init__(
        self,
        minimum: float,
        maximum: float,
        jitter: float,
        *,
        factor: float = 2.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if minimum < 0 or maximum < minimum:
            raise ValueError("need 0 <= reconnection_delay <= reconnection_delay_max")
        if not 0 <= jitter <= 1:
            raise ValueError("randomization_factor must be between 0 and 1")
        self.minimum = minimum
        self.maximum = maximum
        self.jitter = jitter
        self.factor = factor
        self.rand = rand
        #: Delays handed out since the last reset.
        self.attempts = 0

    def duration(self) -> float:
        """The next delay, seconds (counts an attempt)."""
        delay = self.minimum * self.factor ** min(self.attempts, 64)
        self.attempts += 1
        if self.jitter:
            draw = self.rand()
            deviation = draw * self.jitter * delay
            delay = delay - deviation if int(draw * 10) & 1 == 0 else delay + deviation
        return min(delay, self.maximum)

    def reset(self) -> None:
        """Start again from ``minimum``."""
        self.attempts = 0
