"""Sans-I/O bookkeeping behind siox's caps: token buckets, per-source counts, log gates.

Nothing here reads a clock or does I/O: every method takes ``now`` (seconds, any monotonic
origin) from its caller, so the asyncio front ends and the tests drive the same code. The
server keeps one `SourceCounts` (connections per address), one `RateLimiter` (handshakes per
address per second), one `TokenBucket` per socket when events are rate-limited, and one
`LogGate` per kind of refusal so a flood is logged once per source per interval, never once
per packet.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["LogGate", "RateLimiter", "Refusal", "SourceCounts", "TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; one token per event.

    Args:
        rate: tokens added per second (> 0).
        burst: the bucket's size (>= 1); it starts full.
        now: the current time.
    """

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1, not {rate}, {burst}")
        self.rate = float(rate)
        self.burst = float(burst)
        self._tokens = self.burst
        self._at = now

    def take(self, now: float, tokens: float = 1.0) -> bool:
        """Spend ``tokens`` if the bucket holds them; False (nothing spent) when it does not."""
        elapsed = now - self._at
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            self._at = now
        if self._tokens >= tokens:
            self._tokens -= tokens
            return True
        return False

    @property
    def tokens(self) -> float:
        """Tokens left at the last `take` (for tests and introspection)."""
        return self._tokens


class RateLimiter:
    """One `TokenBucket` per source, forgotten once full again (memory bounded by activity).

    Args:
        rate: events per second per source.
        burst: how many may come at once (default: ``rate``, at least 1).
        max_sources: the most sources tracked at once; past it, the fullest buckets (idle
            sources) are dropped first, so a spray of addresses cannot grow memory unbounded.
    """

    __slots__ = ("_buckets", "burst", "max_sources", "rate")

    def __init__(self, rate: float, burst: float | None = None, max_sources: int = 100_000) -> None:
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self.max_sources = max_sources
        self._buckets: dict[Hashable, TokenBucket] = {}

    def allow(self, source: Hashable, now: float) -> bool:
        """Whether one more event from ``source`` fits its rate now."""
        bucket = self._buckets.get(source)
        if bucket is None:
            if len(self._buckets) >= self.max_sources:
                self._prune(now)
            bucket = self._buckets[source] = TokenBucket(self.rate, self.burst, now)
        return bucket.take(now)

    def _prune(self, now: float) -> None:
        refill = self.burst / self.rate
        stale = [s for s, b in self._buckets.items() if now - b._at >= refill]
        for source in stale or list(self._buckets)[: max(1, len(self._buckets) // 2)]:
            del self._buckets[source]

    def __len__(self) -> int:
        return len(self._buckets)


class SourceCounts:
    """How many things (connections, sessions) each source holds; counts of 0 are forgotten."""

    __slots__ = ("_counts", "total")

    def __init__(self) -> None:
        self._counts: dict[Hashable, int] = {}
        self.total = 0

    def get(self, source: Hashable) -> int:
        """The count of ``source``."""
        return self._counts.get(source, 0)

    def add(self, source: Hashable) -> int:
        """Count one more for ``source``; returns its new count."""
        count = self._counts.get(source, 0) + 1
        self._counts[source] = count
        self.total += 1
        return count

    def remove(self, source: Hashable) -> None:
        """Count one less for ``source`` (a no-op at 0)."""
        count = self._counts.get(source, 0)
        if count <= 0:
            return
        self.total -= 1
        if count == 1:
            del self._counts[source]
        else:
            self._counts[source] = count - 1

    def __len__(self) -> int:
        return len(self._counts)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A log line the gate let through: ``count`` refusals of ``source`` since the last one."""

    kind: str
    source: Hashable
    count: int


class LogGate:
    """Let one log line per (kind, source) through per ``interval``; count the rest.

    `note` returns a `Refusal` when a line should be written now (carrying how many were
    suppressed since the previous one), None otherwise.

    Args:
        interval: seconds between two lines of the same kind and source.
        max_sources: the most (kind, source) pairs remembered; past it the table is reset.
    """

    __slots__ = ("_last", "_suppressed", "interval", "max_sources")

    def __init__(self, interval: float = 10.0, max_sources: int = 10_000) -> None:
        self.interval = interval
        self.max_sources = max_sources
        self._last: dict[tuple[str, Hashable], float] = {}
        self._suppressed: dict[tuple[str, Hashable], int] = {}

    def note(self, kind: str, source: Hashable, now: float, count: int = 1) -> Refusal | None:
        """Record ``count`` events; a `Refusal` to log when the interval has passed."""
        key = (kind, source)
        last = self._last.get(key)
        pending = self._suppressed.get(key, 0) + count
        if last is not None and now - last < self.interval:
            self._suppressed[key] = pending
            return None
        if len(self._last) >= self.max_sources:
            self._last.clear()
            self._suppressed.clear()
        self._last[key] = now
        self._suppressed.pop(key, None)
        return Refusal(kind, source, pending)
