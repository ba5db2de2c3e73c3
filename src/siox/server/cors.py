"""CORS for the Engine.IO endpoint: same-origin by default, checked on WebSocket handshakes too.

``cors_allowed_origins``:

* ``None`` (default): only same-origin browsers (``Origin`` matching the ``Host`` header) and
  clients that send no ``Origin`` (non-browser clients) are served; a cross-origin request is
  refused with 400 (deliberately stricter than the reference, which only omits the headers).
* ``"*"``: any origin, answered with ``Access-Control-Allow-Origin: *`` and never with
  credentials (the combination browsers forbid and CVE-2020-28481 abused).
* a list of origins: those origins, echoed back with credentials allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["CorsPolicy"]


class CorsPolicy:
    """Decides whether an origin may talk to the server, and which headers say so."""

    def __init__(self, allowed: str | Iterable[str] | None) -> None:
        self.any = allowed == "*"
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
            return origin.rstrip("/") in self.origins
        return _same_origin(origin, headers.get("host", ""), secure)

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
