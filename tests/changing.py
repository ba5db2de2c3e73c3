"""Tests of state that changes under them (by other tasks, across awaits)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` is true (checked every 10 ms); TimeoutError after ``timeout``."""
    async with asyncio.timeout(timeout):
        # Polling on purpose: the states waited for (a peer's records, a session table) have no
        # event to wait on, and adding one to the code under test only for tests is not wanted.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def now(value: T) -> T:
    """``value``, as read now.

    After ``assert not socket.connected`` or ``assert state is State.CLOSING``, mypy takes that
    attribute to keep the value for the rest of the function, awaits and calls included; asserting
    on ``now(socket.connected)`` checks the same thing without that, so a later assert on a changed
    state is not reported as unreachable.
    """
    return value
