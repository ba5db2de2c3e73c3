"""Timing helper for the tests that guard against quadratic or hanging decoders."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from siox.errors import ProtocolError


def best_time(action: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs, in seconds (a ProtocolError counts as done).

    The garbage collector is off while timing: its full collections grow with the number of
    live objects, which is not the decoder's complexity (and made these checks flaky on CI).
    """
    gc.collect()
    gc.disable()
    try:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            try:
                action()
            except ProtocolError:
                pass
            best = min(best, time.perf_counter() - start)
        return best
    finally:
        gc.enable()
