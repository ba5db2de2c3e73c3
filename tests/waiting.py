"""Waiting in tests for a condition that nothing signals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` is true (checked every 10 ms); TimeoutError after ``timeout``."""
    async with asyncio.timeout(timeout):
        # Polling on purpose: the states waited for (a peer's records, a session table) have no
        # event to wait on, and adding one to the code under test only for tests is not wanted.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
