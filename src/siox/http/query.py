"""Split a request target into path and query, and parse a query string, without surprises.

Neither function raises on odd input except for the explicit field limit: percent-escapes that
do not decode become U+FFFD, ``+`` is a space, and a parameter repeated keeps its first value.
Keys are plain dictionary keys (``__proto__`` is just a string here), and nothing looks an
attribute up by a name the peer chose.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from ..errors import InvalidPacket

__all__ = ["DEFAULT_MAX_QUERY_FIELDS", "parse_query", "split_target"]

DEFAULT_MAX_QUERY_FIELDS = 256


def split_target(target: str) -> tuple[str, str]:
    """Split a request target into its path and query string.

    An absolute-form target (``http://host/path?q``) loses its scheme and authority; a
    fragment (never sent by a browser) is dropped.  The path is returned as sent: no
    percent-decoding, no ``..`` or ``//`` folding, so routing stays exact.

    Args:
        target: The request target.

    Returns:
        ``(path, query)``; the path is ``"/"`` when the target has none (``*`` stays ``*``).
    """
    target = target.partition("#")[0]
    scheme, sep, rest = target.partition("://")
    if sep and scheme.isascii() and scheme.isalpha():
        slash = rest.find("/")
        question = rest.find("?")
        starts = [i for i in (slash, question) if i >= 0]
        target = rest[min(starts) :] if starts else ""
    path, _, query = target.partition("?")
    return path or "/", query


def parse_query(query: str, *, max_fields: int = DEFAULT_MAX_QUERY_FIELDS) -> dict[str, str]:
    """Parse a query string (``a=1&b=x%20y``) into a dictionary.

    Args:
        query: The query string, without the ``?``.
        max_fields: Most ``&``-separated fields accepted (default 256).

    Returns:
        Keys and values percent-decoded; blank values kept; the first of repeated keys wins.

    Raises:
        InvalidPacket: More than ``max_fields`` fields (``http_status`` 400).
    """
    if query.count("&") >= max_fields:
        raise InvalidPacket("too many query parameters")
    result: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        result.setdefault(key, value)
    return result
