"""`parse_query`: the parameters of a request's query string, as the handshake reads them."""

from __future__ import annotations

from urllib.parse import parse_qsl

from .. import fastpaths

__all__ = ["parse_query"]

# The handshake's parameter names and usual values, shared by every session's query.
_KNOWN_QUERY = {
    text: text
    for text in ("EIO", "transport", "sid", "t", "b64", "j", "3", "4", "polling", "websocket")
}


def parse_query(query_string: str) -> dict[str, str]:
    """The parameters of a query string (for a repeated name, the last value).

    As ``dict(urllib.parse.parse_qsl(query_string, keep_blank_values=True))`` gives them.
    """
    if fastpaths.ENABLED and "%" not in query_string and "+" not in query_string:
        # Fast path (`siox.fastpaths`): nothing to unquote, as the handshake's EIO/transport/t.
        query: dict[str, str] = {}
        known = _KNOWN_QUERY
        for field in query_string.split("&"):
            if field:
                name, _, value = field.partition("=")
                query[known.get(name, name)] = known.get(value, value)
        return query
    return dict(parse_qsl(query_string, keep_blank_values=True))
