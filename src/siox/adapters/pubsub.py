"""The publish/subscribe bus a cluster adapter runs over, and the ids its messages carry."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

__all__ = ["MessageHandler", "PubSub", "new_uid"]

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
