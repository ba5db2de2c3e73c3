"""Where the Admin UI's login sessions are kept: in memory, or in Redis for a cluster.

A good login gets a random session id that the UI sends back (``auth: {sessionId}``) when it
reconnects; any store with the two methods of `SessionStore` will do. `RedisStore` uses the key
layout of the reference (``<prefix>#<session id>``), so siox and Node servers instrumented on one
Redis accept each other's sessions.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any, Protocol

__all__ = ["InMemoryStore", "RedisStore", "SessionStore"]

#: How long a session lasts, seconds (one day, as the reference's Redis store).
DEFAULT_SESSION_DURATION = 86_400.0


class SessionStore(Protocol):
    """What the Admin UI's login needs of a session store."""

    async def session_exists(self, session_id: str) -> bool:
        """Whether ``session_id`` was saved and has not expired."""
        ...

    async def save_session(self, session_id: str) -> None:
        """Remember ``session_id``."""
        ...


class InMemoryStore:
    """Sessions kept by this process (lost on restart; not shared with other servers).

    Args:
        session_duration: how long a session lasts, seconds.
        max_sessions: the most sessions kept; the oldest go first.
    """

    def __init__(
        self, *, session_duration: float = DEFAULT_SESSION_DURATION, max_sessions: int = 10_000
    ) -> None:
        self.session_duration = session_duration
        self.max_sessions = max_sessions
        self._expiries: dict[str, float] = {}

    async def session_exists(self, session_id: str) -> bool:
        """Whether ``session_id`` is known and not expired."""
        expiry = self._expiries.get(session_id)
        if expiry is None:
            return False
        if expiry < time.monotonic():
            del self._expiries[session_id]
            return False
        return True

    async def save_session(self, session_id: str) -> None:
        """Remember ``session_id`` for ``session_duration``."""
        now = time.monotonic()
        for old in [s for s, expiry in self._expiries.items() if expiry < now]:
            del self._expiries[old]
        while len(self._expiries) >= self.max_sessions:
            del self._expiries[next(iter(self._expiries))]
        self._expiries[session_id] = now + self.session_duration


class RedisStore:
    """Sessions kept in Redis, shared by every server of a cluster.

    Args:
        client: a ``redis.asyncio.Redis`` client (or anything with async ``exists`` and
            ``set(key, value, ex=seconds)``).
        prefix: the key prefix (``"socket.io-admin"``, the reference's).
        session_duration: how long a session lasts, seconds.
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "socket.io-admin",
        session_duration: float = DEFAULT_SESSION_DURATION,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.session_duration = session_duration

    def key(self, session_id: str) -> str:
        """The Redis key of ``session_id``."""
        return f"{self.prefix}#{session_id}"

    async def session_exists(self, session_id: str) -> bool:
        """Whether the key of ``session_id`` exists."""
        found: Awaitable[int] = self.client.exists(self.key(session_id))
        return bool(await found)

    async def save_session(self, session_id: str) -> None:
        """Set the key of ``session_id`` with its expiry."""
        await self.client.set(self.key(session_id), "true", ex=int(self.session_duration))
