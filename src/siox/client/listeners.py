"""Calling application handlers: sync or async, surplus arguments dropped, errors logged.

JavaScript listeners ignore arguments they do not declare; socket.io relies on it (a
recovery-enabled server appends its offset to every event, socket.io-client passes
``(reason, description)`` to ``disconnect`` listeners). `Listener` gives Python handlers
the same tolerance: a handler that declares fewer positional parameters than it is given
gets the first ones; a handler with ``*args`` gets them all.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Sequence
from types import CoroutineType
from typing import Any

from ..callables import positional_capacity

__all__ = ["Listener", "run_listener"]

logger = logging.getLogger("siox.client")

ResultCallback = Callable[[Any], None]


class Listener:
    """A handler and how many positional arguments it takes.

    Args:
        func: a function or coroutine function.
    """

    __slots__ = ("capacity", "func")

    def __init__(self, func: Callable[..., Any]) -> None:
        if not callable(func):
            raise TypeError(f"a handler must be callable, not {type(func).__name__}")
        self.func = func
        self.capacity = positional_capacity(func)

    def __call__(self, args: Sequence[Any]) -> Any:
        """Call the handler with ``args``, dropping the ones it does not declare."""
        capacity = self.capacity
        if capacity is not None and len(args) > capacity:
            args = args[:capacity]
        return self.func(*args)


async def _finish(awaitable: Any, on_result: ResultCallback | None, name: str) -> None:
    try:
        result = await awaitable
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("handler for %r failed", name)
        return
    if on_result is not None:
        on_result(result)


def run_listener(
    listener: Listener,
    args: Sequence[Any],
    *,
    name: str,
    tasks: set[asyncio.Task[None]],
    on_result: ResultCallback | None = None,
) -> None:
    """Run a handler now; a coroutine goes on as a task (kept in ``tasks`` until done).

    ``on_result`` receives the handler's return value once it is known; an exception is
    logged and gives no result.
    """
    try:
        result = listener(args)
    except Exception:
        logger.exception("handler for %r failed", name)
        return
    if result is not None and (type(result) is CoroutineType or inspect.isawaitable(result)):
        task = asyncio.get_running_loop().create_task(_finish(result, on_result, name))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    elif on_result is not None:
        on_result(result)
