"""The events `siox.http.http11` parsers emit: message heads, body pieces, ends, errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .query import split_target

__all__ = [
    "Body",
    "EndOfMessage",
    "HttpError",
    "HttpEvent",
    "RawHeaders",
    "Request",
    "Response",
    "SwitchedProtocols",
    "header_value",
]

RawHeaders = tuple[tuple[bytes, bytes], ...]


def header_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """Every value of one header joined with commas (RFC 9110 section 5.3), or None.

    Args:
        headers: ``(lowercased name, value)`` pairs.
        name: A lowercased header name.

    Returns:
        The combined value decoded as Latin-1, or None when the header is absent.
    """
    values = [value for key, value in headers if key == name]
    return b",".join(values).decode("latin-1") if values else None


@dataclass(frozen=True, slots=True)
class Request:
    """A request head.

    Attributes:
        method: The method, such as ``GET``.
        target: The request target as sent (Latin-1 decoded), such as ``/socket.io/?EIO=4``.
        headers: ``(name, value)`` pairs in order; names lowercased, values stripped.
        http_version: ``"1.1"`` or ``"1.0"``.
        keep_alive: Whether the connection may carry another request after this one.
        upgrade: Whether the client asks to switch protocols (`SwitchedProtocols` follows).
    """

    method: str
    target: str
    headers: RawHeaders
    http_version: str = "1.1"
    keep_alive: bool = True
    upgrade: bool = False

    @property
    def path(self) -> str:
        """The target's path (an absolute-form target loses its scheme and authority)."""
        return split_target(self.target)[0]

    @property
    def query(self) -> str:
        """The target's query string, without the ``?``."""
        return split_target(self.target)[1]

    def header(self, name: bytes) -> str | None:
        """Every value of one header joined with commas, or None.

        Args:
            name: A lowercased header name.

        Returns:
            The combined value (Latin-1 decoded), or None when absent.
        """
        return header_value(self.headers, name)


@dataclass(frozen=True, slots=True)
class Response:
    """A response head.

    Attributes:
        status: The status code.
        reason: The reason phrase.
        headers: ``(name, value)`` pairs in order; names lowercased, values stripped.
        http_version: ``"1.1"`` or ``"1.0"``.
        keep_alive: Whether the connection may carry another request.
        upgrade: A 101 switching protocols (`SwitchedProtocols` follows).
    """

    status: int
    reason: str
    headers: RawHeaders
    http_version: str = "1.1"
    keep_alive: bool = True
    upgrade: bool = False

    def header(self, name: bytes) -> str | None:
        """Every value of one header joined with commas, or None.

        Args:
            name: A lowercased header name.

        Returns:
            The combined value (Latin-1 decoded), or None when absent.
        """
        return header_value(self.headers, name)


@dataclass(frozen=True, slots=True)
class Body:
    """A piece of a message body (chunked framing already removed)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The current message is complete."""


@dataclass(frozen=True, slots=True)
class SwitchedProtocols:
    """The connection switched protocols; ``data`` is what followed the head."""

    data: bytes


@dataclass(frozen=True, slots=True)
class HttpError:
    """The peer broke HTTP or a limit; the parser takes no more input.

    Attributes:
        status: The status a server answers with (400, 408, 413 or 431).
        message: What went wrong.
    """

    status: int
    message: str


HttpEvent = Request | Response | Body | EndOfMessage | SwitchedProtocols | HttpError
