"""CORS for the Engine.IO endpoint: same-origin by default, checked on WebSocket handshakes too.

``cors_allowed_origins``:

* ``None`` (default): only same-origin browsers (``Origin`` matching the ``Host`` header) and
  clients that send no ``Origin`` (non-browser clients) are served; a cross-origin request is
  refused with 400 (deliberately stricter than the reference, which only omits the headers).
* ``"*"``: any origin, answered with ``Access-Control-Allow-Origin: *`` and never with
  credentials (the combination browsers forbid and CVE-2020-28481 abused).
* a list of origins: those origins, echoed back with credentials allowed.

A refused origin is logged (warning, logger ``siox``) with the option that would allow it,
once per origin; past `WARNED_ORIGINS` distinct origins, at most one line every
`WARNING_INTERVAL` seconds, so a flood of origins cannot flood the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

__all__ = ["WARNED_ORIGINS", "WARNING_INTERVAL", "CorsPolicy"]

logger = logging.getLogger("siox")

#: How many distinct refused origins are each logged once.
WARNED_ORIGINS = 256
#: Past that, the shortest interval between two warnings, seconds.
WARNING_INTERVAL = 60.0


class CorsPolicy:
    """Decides whether an origin may talk to the server, and which headers say so."""

    def __init__(
        self, allowed: str | Iterable[str] | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.any = allowed == "*"
        self._warned: set[str] = set()
        self._clock = clock
        self._last_warning = -WARNING_INTERVAL
        if allowed is None or self.any:
            self.origins: frozenset[str] | None = None
        elif isinstance(allowed, str):
            self.origins = frozenset((allowed.rstrip("/"),))
        else:
            self.origins = frozenset(origin.rstrip("/") for origin in allowed)
        self.same_origin_only = allowed is None

    def allows(self, headers: dict[str, str], secure: bool) -> bool:
        """Whether a request with these headers may be served."""
        origin = headers.get("origin")
        if origin is None:
            return True
        if self.any:
            return True
        if self.origins is not None:
            allowed = origin.rstrip("/") in self.origins
        else:
            allowed = _same_origin(origin, headers.get("host", ""), secure)
        if not allowed:
            self._warn(origin)
        return allowed

    def _warn(self, origin: str) -> None:
        if origin in self._warned:
            return
        if len(self._warned) < WARNED_ORIGINS:
            self._warned.add(origin)
        else:
            now = self._clock()
            if now - self._last_warning < WARNING_INTERVAL:
                return
            self._last_warning = now
        where = "same-origin only (the default)" if self.same_origin_only else "not listed"
        logger.warning(
            "refused a cross-origin request from %r (%s); to allow it, pass "
            'cors_allowed_origins=[%r] (or "*" for any origin)',
            origin[:200],
            where,
            origin.rstrip("/")[:200],
        )

    def response_headers(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        """CORS headers for a response to an allowed request."""
        origin = headers.get("origin")
        if origin is None or self.same_origin_only:
            return []
        if self.any:
            return [("Access-Control-Allow-Origin", "*")]
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Credentials", "true"),
            ("Vary", "Origin"),
        ]

    def error_headers(self, headers: dict[str, str], secure: bool) -> list[tuple[str, str]]:
        """CORS headers for an error answer: none when the origin itself is not allowed."""
        origin = headers.get("origin")
        if origin is None or self.same_origin_only or self.any:
            return self.response_headers(headers)
        if self.origins is not None and origin.rstrip("/") not in self.origins:
            return []
        return self.response_headers(headers)

    def preflight_headers(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        """Headers for the answer to an OPTIONS preflight."""
        result = self.response_headers(headers)
        result.append(("Access-Control-Allow-Methods", "GET, POST, OPTIONS"))
        requested = headers.get("access-control-request-headers")
        if requested and len(requested) <= 1024:
            result.append(("Access-Control-Allow-Headers", requested))
        result.append(("Access-Control-Max-Age", "86400"))
        return result


def _same_origin(origin: str, host: str, secure: bool) -> bool:
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    if (parts.scheme == "https") != secure:
        return False
    return parts.netloc.lower() == host.lower()
