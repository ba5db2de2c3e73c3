"""Coroutines started at once, in a task only if they suspend (a handshake that never waits).

A handshake (the WebSocket upgrade's checks, a namespace CONNECT) is a coroutine because
application code or an adapter *may* make it wait; most of the time nothing does. `start`
runs such a coroutine's first step right away, in a copy of the current context, and gives
it a task only when it suspends, continuing from where it stopped; one that finishes at once
costs no task and no trip through the event loop. Python 3.12's eager tasks do the same for
any coroutine; this is the same idea for 3.11, for siox's own coroutines.

Code that may expect to run inside a task (application coroutines: ``asyncio.timeout`` needs
``asyncio.current_task()``; adapters doing I/O) is awaited behind ``await TASK_POINT``: in a
task that is nothing, in an eager first step it moves the coroutine into its task first.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import types
from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["TASK_POINT", "start"]

_NATIVE_EAGER = sys.version_info >= (3, 12)


class _Switch:
    """What an eager first step yields to ask for its task (never reaches an event loop)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        if asyncio.current_task() is None:
            yield self


#: ``await TASK_POINT``: go on inside a task from here (nothing when in one already).
TASK_POINT = _Switch()


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Generator[Any, Any, Any]:
    """Drive ``coro`` on from where its eager first step stopped (having yielded ``yielded``)."""
    value: Any = None
    error: BaseException | None = None
    while True:
        if yielded is not TASK_POINT:  # a future to wait on (or None: a bare yield)
            try:
                value, error = (yield yielded), None
            except BaseException as exc:  # thrown in by the task (cancellation): passed on
                value, error = None, exc
        else:
            value, error = None, None
        try:
            yielded = coro.send(value) if error is None else coro.throw(error)
        except StopIteration as stop:
            return stop.value


def start(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]
) -> asyncio.Task[Any] | None:
    """Run ``coro`` now; None if it finished, else the task that goes on with it.

    Exceptions of the first step propagate to the caller, as they would from the coroutine.
    """
    if _NATIVE_EAGER:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg,unused-ignore]
        return None if task.done() else task
    context = contextvars.copy_context()
    try:
        yielded = context.run(coro.send, None)
    except StopIteration:
        return None
    return loop.create_task(_resume(coro, yielded), context=context)
