"""Request headers as text, names and common values decoded once for every connection."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["decode_headers"]

# A connection keeps its handshake's headers (``socket.handshake.headers``) for its lifetime.
# Header names, and the values of the headers that are the same from one client to the next
# (not keys, cookies or credentials), are decoded once and shared: a few hundred bytes less per
# connection. Both tables are bounded; what does not fit is decoded for each request.
_SHARED_VALUES = frozenset(
    (b"host", b"upgrade", b"connection", b"sec-websocket-version", b"sec-websocket-extensions",
     b"user-agent", b"origin", b"accept", b"accept-encoding", b"accept-language",
     b"cache-control", b"pragma", b"content-type")
)  # fmt: skip
_NAMES: dict[bytes, str] = {}
_VALUES: dict[bytes, str] = {}
_TABLE_SIZE = 512
_SHARED_LENGTH = 256


def decode_headers(pairs: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Request headers (lower-case names) as text; repeated ones joined with ``", "``."""
    headers: dict[str, str] = {}
    names, values = _NAMES, _VALUES
    for name, value in pairs:
        key = names.get(name)
        if key is None:
            key = name.decode("latin-1")
            if len(names) < _TABLE_SIZE and len(name) <= _SHARED_LENGTH:
                names[name] = key
        text = values.get(value) if name in _SHARED_VALUES else None
        if text is None:
            text = value.decode("latin-1")
            if (
                name in _SHARED_VALUES
                and len(values) < _TABLE_SIZE
                and len(value) <= _SHARED_LENGTH
            ):
                values[value] = text
        headers[key] = headers[key] + ", " + text if key in headers else text
    return headers
