"""The fast-path switch for differential tests: run the same inputs with fast paths on and off."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import siox.fastpaths
from siox.core import ProtocolViolation


@contextmanager
def fast_paths(enabled: bool) -> Iterator[None]:
    """Turn every fast path on or off (`siox.fastpaths.ENABLED`) for the ``with`` block."""
    saved = siox.fastpaths.ENABLED
    siox.fastpaths.ENABLED = enabled
    try:
        yield
    finally:
        siox.fastpaths.ENABLED = saved


def plain(events: Sequence[Any]) -> list[Any]:
    """Events compared by value (a violation's cause by its type and text)."""
    return [
        (e.reason, type(e.cause), str(e.cause), e.invalid_state)
        if isinstance(e, ProtocolViolation)
        else e
        for e in events
    ]
