"""Serialise HTTP/1.1 responses and requests: status or request line, headers, bodies, chunks.

Header names and values come from the application, so they are checked: a name must be an
RFC 9110 token and a value may not hold CR, LF or NUL (no header injection, no response
splitting).  A violation raises `ValueError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from http import HTTPStatus

__all__ = [
    "Headers",
    "header_lines",
    "write_chunk",
    "write_last_chunk",
    "write_request",
    "write_response",
    "write_response_head",
]

Headers = Iterable[tuple[str | bytes, str | bytes]]
"""Header pairs as the writers accept them: ``str`` (Latin-1 encoded) or ``bytes``."""

_TOKEN_CHARS = frozenset(
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
# One search (``b"\r" in value`` raises and swallows a TypeError inside CPython 3.11 first).
_FORBIDDEN_IN_VALUES = re.compile(rb"[\r\n\x00]")
_CONTROL_OR_SPACE = re.compile(rb"[\x00-\x20\x7f]")
_REASONS = {status.value: status.phrase.encode("ascii") for status in HTTPStatus}


def _as_bytes(text: str | bytes) -> bytes:
    return text.encode("latin-1") if isinstance(text, str) else bytes(text)


def _header_block(headers: Headers) -> tuple[list[bytes], set[bytes]]:
    lines = []
    names = set()
    for raw_name, raw_value in headers:
        name, value = _as_bytes(raw_name), _as_bytes(raw_value)
        if not name or not _TOKEN_CHARS.issuperset(name):
            raise ValueError(f"invalid header name {name!r}")
        if _FORBIDDEN_IN_VALUES.search(value) is not None:
            raise ValueError(f"invalid character in the value of header {name!r}")
        lines.append(name + b": " + value + b"\r\n")
        names.add(name.lower())
    return lines, names


def header_lines(headers: Headers) -> bytes:
    """Header lines (``Name: value`` and CRLF each), checked as the writers check them.

    Args:
        headers: Header pairs, written as given.

    Returns:
        The lines' bytes (empty for no headers).

    Raises:
        ValueError: An invalid header name or value.
    """
    lines, _ = _header_block(headers)
    return b"".join(lines)


def write_response_head(
    status: int, headers: Headers = (), *, chunked: bool = False, reason: str | None = None
) -> bytes:
    """Serialise a status line and headers, up to and including the blank line.

    Args:
        status: The status code (100-999).
        headers: Header pairs, written as given.
        chunked: Add ``Transfer-Encoding: chunked``; the body then goes through `write_chunk`
            and `write_last_chunk`.
        reason: The reason phrase; the standard one for ``status`` by default.

    Returns:
        The head's bytes.

    Raises:
        ValueError: An invalid status, header name or header value.
    """
    if not 100 <= status <= 999:
        raise ValueError(f"invalid status code {status}")
    phrase = _REASONS.get(status, b"") if reason is None else _as_bytes(reason)
    if _FORBIDDEN_IN_VALUES.search(phrase) is not None:
        raise ValueError("invalid reason phrase")
    lines, _ = _header_block(headers)
    if chunked:
        lines.append(b"Transfer-Encoding: chunked\r\n")
    return b"HTTP/1.1 %d %s\r\n%s\r\n" % (status, phrase, b"".join(lines))


def write_response(
    status: int,
    headers: Headers = (),
    body: bytes = b"",
    *,
    reason: str | None = None,
    include_length: bool = True,
) -> bytes:
    """Serialise a complete response with a ``Content-Length`` body.

    Args:
        status: The status code.
        headers: Header pairs; ``Content-Length`` is added unless present.
        body: The body.
        reason: The reason phrase; the standard one by default.
        include_length: Add ``Content-Length`` (a 101 or 1xx response has none).

    Returns:
        The response's bytes.

    Raises:
        ValueError: An invalid status, header name or header value.
    """
    headers = list(headers)
    if include_length and not any(_as_bytes(n).lower() == b"content-length" for n, _ in headers):
        headers.append(("Content-Length", str(len(body))))
    return write_response_head(status, headers, reason=reason) + body


def write_chunk(data: bytes) -> bytes:
    """Frame one piece of a chunked body (an empty piece writes nothing).

    Args:
        data: The piece.

    Returns:
        The chunk's bytes.
    """
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def write_last_chunk() -> bytes:
    """The terminating chunk of a chunked body.

    Returns:
        The bytes ``0``, CR, LF, CR, LF.
    """
    return b"0\r\n\r\n"


def write_request(
    method: str, target: str, headers: Headers = (), body: bytes | None = None
) -> bytes:
    """Serialise a complete request (the client role).

    Args:
        method: The method, such as ``GET`` or ``POST``.
        target: The request target (path and query).
        headers: Header pairs, ``Host`` included; ``Content-Length`` is added for a body
            unless present.
        body: The body, or None for a request without one.

    Returns:
        The request's bytes.

    Raises:
        ValueError: An invalid method, target, header name or header value.
    """
    method_bytes, target_bytes = _as_bytes(method), _as_bytes(target)
    if not method_bytes or not _TOKEN_CHARS.issuperset(method_bytes):
        raise ValueError(f"invalid method {method!r}")
    if not target_bytes or _CONTROL_OR_SPACE.search(target_bytes):
        raise ValueError(f"invalid request target {target!r}")
    lines, names = _header_block(headers)
    if body is not None and b"content-length" not in names:
        lines.append(b"Content-Length: %d\r\n" % len(body))
    head = b"%s %s HTTP/1.1\r\n%s\r\n" % (method_bytes, target_bytes, b"".join(lines))
    return head + body if body else head
