"""The bookkeeping behind a client socket's emits: ack ids and timeouts, and the retry queue.

`AckRegistry` hands out ack ids (one counter per socket, as socket.io-client), arms each ack's
timeout and settles its future. `RetryQueue` implements socket.io-client 4.6's ``retries``:
emits go out one at a time, each with an ack; one not acknowledged in time (or cut off by a
disconnect) is sent again, up to ``retries`` more times, and the head of the queue is re-sent
after every reconnection.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import AckTimeout, NotConnected

__all__ = ["AckRegistry", "RetryQueue"]

AckFuture = asyncio.Future[list[Any]]


class AckRegistry:
    """Pending acknowledgements of one socket: id -> future (and its timeout)."""

    def __init__(self) -> None:
        self._next_id = 0
        self._pending: dict[int, tuple[AckFuture, asyncio.TimerHandle | None]] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def next_id(self) -> int:
        """A fresh ack id."""
        ack_id = self._next_id
        self._next_id += 1
        return ack_id

    def register(
        self,
        ack_id: int,
        future: AckFuture,
        timeout: float | None,
        on_expire: Callable[[int], None],
    ) -> None:
        """Wait for ack ``ack_id``; after ``timeout`` seconds fail it with `AckTimeout`."""
        timer = None
        if timeout is not None:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(timeout, self._expire, ack_id, timeout, on_expire)
        self._pending[ack_id] = (future, timer)

    def _expire(self, ack_id: int, timeout: float, on_expire: Callable[[int], None]) -> None:
        entry = self._pending.pop(ack_id, None)
        if entry is None:
            return
        on_expire(ack_id)
        future = entry[0]
        if not future.done():
            future.set_exception(AckTimeout(f"no acknowledgement within {timeout:g} s"))

    def resolve(self, ack_id: int, args: list[Any]) -> None:
        """The server acknowledged ``ack_id`` (an unknown id is ignored)."""
        entry = self._pending.pop(ack_id, None)
        if entry is None:
            return
        future, timer = entry
        if timer is not None:
            timer.cancel()
        if not future.done():
            future.set_result(args)

    def forget(self, ack_id: int) -> None:
        """Stop waiting for ``ack_id`` (its caller was cancelled); a late ack is then ignored."""
        entry = self._pending.pop(ack_id, None)
        if entry is not None and entry[1] is not None:
            entry[1].cancel()

    def fail_sent(self, kept: Iterable[int | None], error: BaseException) -> None:
        """Fail every pending ack except those in ``kept`` (packets not sent yet)."""
        keep = set(kept)
        for ack_id in [i for i in self._pending if i not in keep]:
            future, timer = self._pending.pop(ack_id)
            if timer is not None:
                timer.cancel()
            if not future.done():
                future.set_exception(error)


@dataclass(slots=True)
class _Queued:
    payload: list[Any]
    ack: AckFuture | None
    tries: int = 0
    pending: bool = False
    inner: AckFuture | None = None


SendWithAck = Callable[[list[Any], AckFuture], None]


class RetryQueue:
    """At-least-once emits: one in flight at a time, re-sent until acknowledged.

    Args:
        retries: how many times a packet is sent again (so ``retries + 1`` tries at most).
        send: sends ``payload`` now with an ack settling the given future (the ack timeout
            applies).
        connected: whether the socket can send now.
    """

    def __init__(self, retries: int, send: SendWithAck, connected: Callable[[], bool]) -> None:
        self.retries = retries
        self._send = send
        self._connected = connected
        self._queue: deque[_Queued] = deque()
        #: How many queued emits have an ack awaited (the caller's, not the tries').
        self.acks = 0

    def __len__(self) -> int:
        return len(self._queue)

    def push(self, payload: list[Any], ack: AckFuture | None) -> None:
        """Queue an emit; ``ack`` (if any) gets the reply, or the last try's error."""
        self._queue.append(_Queued(payload, ack))
        if ack is not None:
            self.acks += 1
        self.drain()

    def forget(self, ack: AckFuture) -> None:
        """Nobody waits for ``ack`` any more: drop its emit, or let the one in flight finish."""
        for index, item in enumerate(self._queue):
            if item.ack is ack:
                self.acks -= 1
                if index == 0 and item.pending:
                    item.ack = None  # in flight: its tries end as they would
                else:
                    del self._queue[index]
                return

    def drain(self, force: bool = False) -> None:
        """Send the head of the queue unless it is in flight (``force``: send it again)."""
        if not self._queue or not self._connected():
            return
        item = self._queue[0]
        if item.pending and not force:
            return
        item.pending = True
        item.tries += 1
        inner: AckFuture = asyncio.get_running_loop().create_future()
        item.inner = inner
        inner.add_done_callback(lambda done: self._settled(item, done))
        self._send(item.payload, inner)

    def _settled(self, item: _Queued, inner: AckFuture) -> None:
        if inner is not item.inner or not self._queue or self._queue[0] is not item:
            return  # a stale try, or already acknowledged
        error = NotConnected("cancelled") if inner.cancelled() else inner.exception()
        if error is None:
            self._pop()
            if item.ack is not None and not item.ack.done():
                item.ack.set_result(inner.result())
        elif item.tries > self.retries:
            self._pop()
            if item.ack is not None and not item.ack.done():
                item.ack.set_exception(error)
        item.pending = False
        self.drain()

    def _pop(self) -> None:
        if self._queue.popleft().ack is not None:
            self.acks -= 1
