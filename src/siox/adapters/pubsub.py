"""The publish/subscribe bus a cluster adapter runs over, and what its adapters share.

The ids their messages carry, and the ordered publisher that sends a node's messages without
waiting for each round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

__all__ = ["MessageHandler", "OrderedPublisher", "PubSub", "new_uid"]

logger = logging.getLogger("siox.cluster")

#: ``handler(channel, message)``: one message from the bus.
MessageHandler = Callable[[str, bytes], Awaitable[None]]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def new_uid() -> str:
    """A 6-character random id, like npm ``uid2(6)``."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(6))


class PubSub(Protocol):
    """The publish/subscribe bus a `ClusterAdapter` runs over (Redis: `siox.adapters.redis`)."""

    async def publish(self, channel: str, message: bytes) -> None:
        """Publish ``message`` on ``channel``."""
        ...

    async def subscribe(
        self, pattern: str, channels: Sequence[str], handler: MessageHandler
    ) -> None:
        """Deliver messages on ``pattern`` (a glob) and on ``channels`` to ``handler``."""
        ...

    async def unsubscribe(self, pattern: str, channels: Sequence[str]) -> None:
        """Undo `subscribe`."""
        ...

    async def numsub(self, channel: str) -> int:
        """How many subscribers ``channel`` has (``PUBSUB NUMSUB``)."""
        ...


async def settle(task: asyncio.Future[None] | None) -> None:
    """Wait for a subscription still under way (its failure is not this caller's).

    An adapter closing while its subscription is in flight waits for it first: left alone, it
    would subscribe after the close and keep a Redis connection nobody closes.
    """
    if task is not None and not task.done():
        with contextlib.suppress(Exception):
            await asyncio.shield(task)


M = TypeVar("M")


class OrderedPublisher(Generic[M]):
    """A node's outgoing messages, published in order without awaiting each round trip.

    `put` queues a message and returns at once; one drain task at a time sends what is queued
    as a batch (a Redis pipeline) and then whatever was queued meanwhile, so messages leave in
    the order they were put, and a burst of broadcasts goes out in a few round trips instead of
    one each (and the caller does not yield to the event loop per broadcast, so the writes to
    local sockets coalesce too). A batch that fails is logged and dropped: the bus is down.
    `publish` also waits while ``high_water`` messages are queued (backpressure).

    Args:
        send: ``send(batch)`` publishes ``(channel, message)`` pairs in this order (one round
            trip, say); messages are bytes, or stream entries for ``XADD``.
        high_water: queued messages beyond which `publish` waits for the queue to drain.
    """

    def __init__(
        self,
        send: Callable[[list[tuple[str, M]]], Awaitable[None]],
        *,
        high_water: int = 10_000,
    ) -> None:
        self._send = send
        self.high_water = high_water
        self._queue: list[tuple[str, M]] = []
        self._task: asyncio.Task[None] | None = None

    def put(self, channel: str, message: M) -> None:
        """Queue ``message`` for ``channel``; it goes out after everything queued before it."""
        self._queue.append((channel, message))
        if self._task is None:
            self._task = asyncio.ensure_future(self._drain())

    async def publish(self, channel: str, message: M) -> None:
        """`put`, then wait while the queue is at its high water mark."""
        self.put(channel, message)
        if len(self._queue) >= self.high_water:
            await self.flush()

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until everything queued so far has been sent (or failed), at most ``timeout``."""
        task = self._task
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), timeout)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await self._send(batch)
                except Exception as exc:
                    logger.warning("siox cluster: %d messages not published: %r", len(batch), exc)
        finally:
            self._task = None
