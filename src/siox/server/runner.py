"""Running application handlers: arity plans, ack values, and per-client ordered execution.

Handlers may be plain functions or coroutine functions. A plain function runs right away, with
no task. Coroutine handlers of one client run one after the other, in arrival order (the
default; ``ordered=False`` lets them overlap) inside a worker task that exists only while that
client has work queued, so an idle client holds no task. On Python 3.12+ a handler that
finishes without suspending runs eagerly, without ever being scheduled.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ..callables import positional_capacity
from .eager import TASK_POINT, start as eager_start

__all__ = ["ErrorContext", "HandlerRunner", "accepts_positional", "ack_args"]

_EAGER = sys.version_info >= (3, 12)

ErrorReporter = Callable[[BaseException], None]


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """Where application code failed, as the error hook is told.

    Attributes:
        event: the event being handled (``"connect"``, ``"disconnect"``... for those handlers),
            None when not known.
        namespace: the namespace name, None when not known.
        socket_id: the socket id, None when not known.
    """

    event: str | None = None
    namespace: str | None = None
    socket_id: str | None = None

    def describe(self) -> str:
        """A short description, e.g. ``event 'chat' on namespace '/' (socket abc)``."""
        parts = []
        if self.event is not None:
            parts.append(f"event {self.event!r}")
        if self.namespace is not None:
            parts.append(f"on namespace {self.namespace!r}")
        if self.socket_id is not None:
            parts.append(f"(socket {self.socket_id})")
        return " ".join(parts) or "application code"


def accepts_positional(func: Callable[..., Any], count: int) -> bool:
    """Whether ``func`` can be called with ``count`` positional arguments."""
    capacity = positional_capacity(func)
    return capacity is None or capacity >= count


def ack_args(value: Any) -> list[Any]:
    """The ACK arguments for a handler's return value: None -> none, tuple -> several."""
    if value is None:
        return []
    if type(value) is tuple:
        return list(value)
    return [value]


class HandlerRunner:
    """Runs one client's handler coroutines, in order unless ``ordered`` is False."""

    __slots__ = ("_loop", "_ordered", "_queue", "_report", "_tasks", "busy")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, report: ErrorReporter, *, ordered: bool = True
    ) -> None:
        self._loop = loop
        self._report = report
        self._ordered = ordered
        # Created on first use: an idle client holds no deque (~700 bytes) and no set.
        self._queue: deque[Coroutine[Any, Any, Any]] | None = None
        #: whether an ordered handler is running or queued (read on the per-event path)
        self.busy = False
        self._tasks: set[asyncio.Task[Any]] | None = None

    @property
    def idle(self) -> bool:
        """Whether no ordered handler is running or queued."""
        return not self.busy

    def submit(self, coro: Coroutine[Any, Any, Any], *, eager: bool = False) -> None:
        """Run ``coro`` now or after the ones already queued; exceptions go to ``report``.

        ``eager``: ``coro`` is siox's own and awaits application code or adapters behind
        `siox.server.eager.TASK_POINT`, so on Python 3.11 too it may start right away, and
        get a task only if it suspends (3.12 starts every coroutine so).
        """
        if self._ordered:
            if self.busy:
                if self._queue is None:
                    self._queue = deque()
                self._queue.append(coro)
                return
            self.busy = True
            task = self._start(self._drain(coro), eager)
            if task is None:
                return
        else:
            task = self._start(self._guard(coro), eager)
            if task is None:
                return
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        tasks = self._tasks
        if tasks is not None:
            tasks.discard(task)
            if not tasks:
                self._tasks = None  # an idle client holds no set

    def _start(self, coro: Coroutine[Any, Any, Any], eager: bool) -> asyncio.Task[Any] | None:
        if _EAGER or eager:
            return eager_start(self._loop, coro)
        return self._loop.create_task(coro)

    async def _guard(self, coro: Awaitable[Any]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # reported, never kills the connection
            self._report(exc)

    async def _drain(self, coro: Coroutine[Any, Any, Any]) -> None:
        try:
            while True:
                await self._guard(coro)
                if not self._queue:
                    return
                coro = self._queue.popleft()
                await TASK_POINT  # a queued coroutine runs in a task (on 3.11: no eager start)
        finally:
            self.busy = False
            while self._queue:  # cancelled: close what will never run
                self._queue.popleft().close()
            self._queue = None

    def cancel(self) -> None:
        """Cancel running handlers and drop queued ones (the client is gone)."""
        while self._queue:
            self._queue.popleft().close()
        for task in list(self._tasks or ()):
            task.cancel()
