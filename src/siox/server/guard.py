"""The server's caps (`siox.options.Caps`) as thin hooks over the sans-I/O `siox.caps`.

`EngineGuard` admits or refuses new Engine.IO sessions (per-address and total counts, the
per-address handshake rate) and `SocketGuard` rate-limits one connection's events. Both log a
refusal through `LogGate`: once per kind and source per ``log_interval``, with the number of
refusals since the previous line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from ..caps import LogGate, RateLimiter, SourceCounts, TokenBucket
from ..engineio.handshake import EngineErrorCode
from ..errors import HandshakeError
from ..options import Caps
from .engine_api import RequestInfo
from .http_types import HttpRequest

__all__ = ["EngineGuard", "SocketGuard", "refused"]

logger = logging.getLogger("siox")

#: The disconnect reason of a socket past ``events_per_second`` with ``"disconnect"``.
RATE_LIMITED = "rate limit exceeded"


def refused(gate: LogGate, kind: str, source: Hashable, count: int = 1) -> None:
    """Log ``count`` refusals (or drops) of one kind, at most once per source per interval.

    The line carries how many happened since the previous line about the same kind and source.
    """
    line = gate.note(kind, source, time.monotonic(), count)
    if line is not None:
        logger.warning("%s: %d from %s since the last report", kind, line.count, source)


class EngineGuard:
    """Admission of new sessions under the engine's caps."""

    __slots__ = ("caps", "counting", "gate", "handshakes", "open", "proxies")

    def __init__(self, caps: Caps) -> None:
        self.caps = caps
        self.gate = LogGate(caps.log_interval)
        #: open sessions by address (counted only when a cap on them is set)
        self.open = SourceCounts()
        self.counting = caps.max_sessions is not None or caps.max_connections_per_ip is not None
        rate = caps.handshakes_per_ip_per_second
        self.handshakes = RateLimiter(rate, 2 * rate) if rate else None
        self.proxies: tuple[IPv4Network | IPv6Network, ...] = tuple(
            ip_network(proxy, strict=False) for proxy in caps.trusted_proxies
        )

    def source(self, request: HttpRequest | RequestInfo) -> str:
        """The client address the per-address caps count ``request`` under.

        The peer address, unless it is a trusted proxy (`Caps.trusted_proxies`): then the
        right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy.
        """
        address = request.address
        if not self.proxies or not self._trusted(address):
            return address
        for hop in reversed(request.headers.get("x-forwarded-for", "").split(",")):
            hop = hop.strip()
            if not hop:
                continue
            address = hop
            if not self._trusted(hop):
                break
        return address

    def _trusted(self, address: str) -> bool:
        try:
            ip = ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)

    def admit(self, address: str) -> None:
        """Refuse a new session from ``address`` over a cap (`HandshakeError`, 429 or 503)."""
        caps = self.caps
        if caps.max_sessions is not None and self.open.total >= caps.max_sessions:
            refused(self.gate, "max_sessions", "*")
            raise HandshakeError(
                "Server full", http_status=503, eio_error=EngineErrorCode.FORBIDDEN
            )
        cap = caps.max_connections_per_ip
        if cap is not None and self.open.get(address) >= cap:
            refused(self.gate, "max_connections_per_ip", address)
            raise HandshakeError(
                "Too many connections", http_status=429, eio_error=EngineErrorCode.FORBIDDEN
            )
        if self.handshakes is not None and not self.handshakes.allow(address, time.monotonic()):
            refused(self.gate, "handshakes_per_ip_per_second", address)
            raise HandshakeError(
                "Too many handshakes", http_status=429, eio_error=EngineErrorCode.FORBIDDEN
            )

    def opened(self, address: str) -> None:
        """A session from ``address`` was created."""
        if self.counting:
            self.open.add(address)

    def closed(self, address: str) -> None:
        """A session from ``address`` is gone."""
        if self.counting:
            self.open.remove(address)


class SocketGuard:
    """One connection's event rate (`Caps.events_per_second`)."""

    __slots__ = ("bucket", "disconnect", "gate", "source")

    def __init__(self, caps: Caps, gate: LogGate, source: str) -> None:
        rate = caps.events_per_second
        assert rate is not None
        burst = caps.events_burst if caps.events_burst is not None else 2 * rate
        self.bucket = TokenBucket(rate, max(1.0, burst), time.monotonic())
        self.disconnect = caps.on_event_overflow == "disconnect"
        self.gate = gate
        self.source = source

    def allow_event(self) -> bool:
        """Whether one more event fits; logs the refusal (once per interval) when it does not."""
        if self.bucket.take(time.monotonic()):
            return True
        refused(self.gate, "events_per_second", self.source)
        return False
