"""The WebSocket opening handshake over HTTP/1.1 (RFC 6455 section 4), for both roles.

Server: `accept_upgrade` checks an upgrade request's headers and builds the 101 response;
a request it refuses raises `HandshakeError` whose ``http_status`` is 400, or 426 for an
unsupported ``Sec-WebSocket-Version``; `rejection_response` turns that error into response bytes
(with ``Sec-WebSocket-Version: 13`` on a 426).  Client: `ClientHandshake` builds the request with
a random key and checks the server's response.

Headers are ``(name, value)`` byte pairs with lowercased names, as `siox.http.http11` produces.
Every header is split with ``str.split``/``str.strip``, so parsing time is linear in the header
size whatever the peer sends (CVE-2021-32640 was a regex that was not).

Origin checking (same-origin by default) is policy, and belongs to the server that calls this;
`UpgradeResult.origin` carries the header for it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..errors import HandshakeError, ProtocolError
from .deflate import DeflateOptions, DeflateParams, accept_offer, accept_response, build_offer
from .http11_events import header_value
from .messages import Headers, header_lines, write_request, write_response

__all__ = [
    "WEBSOCKET_GUID",
    "ClientHandshake",
    "UpgradeResult",
    "accept_key",
    "accept_upgrade",
    "header_tokens",
    "is_websocket_upgrade",
    "rejection_response",
]

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

RawHeaders = Sequence[tuple[bytes, bytes]]

# A valid key is 16 bytes in base64: 22 base64 characters and two pad characters.
_KEY = re.compile(r"[A-Za-z0-9+/]{22}==")
# What `accept_upgrade` reads of a request, gathered in one pass over its headers.
_UPGRADE_HEADERS = frozenset(
    (b"upgrade", b"connection", b"sec-websocket-version", b"sec-websocket-key",
     b"sec-websocket-extensions", b"sec-websocket-protocol", b"origin")
)  # fmt: skip
# The 101's status line and the headers every accepted upgrade has, up to the accept value.
_SWITCHING = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: "
)


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    """What the opening handshake agreed.

    Attributes:
        deflate: The permessage-deflate parameters, or None without compression.
        subprotocol: The chosen ``Sec-WebSocket-Protocol``, or None.
        origin: The request's ``Origin`` header (server side), or None.
        response: The 101 response bytes to write (server side; empty on the client).
    """

    deflate: DeflateParams | None
    subprotocol: str | None
    origin: str | None = None
    response: bytes = b""


# `UpgradeResult(...)` without the frozen dataclass's ``__init__``: the slots filled through
# their descriptors, a third of the cost.
_new = object.__new__
_set_deflate, _set_subprotocol, _set_origin, _set_response = (
    vars(UpgradeResult)[field].__set__ for field in ("deflate", "subprotocol", "origin", "response")
)


def header_tokens(headers: RawHeaders, name: bytes) -> list[str]:
    """The comma-separated elements of a header, stripped and lowercased, empties dropped.

    Args:
        headers: ``(lowercased name, value)`` pairs.
        name: A lowercased header name.

    Returns:
        The elements in order.
    """
    value = header_value(headers, name)
    if value is None:
        return []
    return [token for part in value.split(",") if (token := part.strip(" \t").lower())]


def is_websocket_upgrade(headers: RawHeaders) -> bool:
    """Whether a request asks to switch to WebSocket (``Connection: upgrade`` + ``Upgrade``).

    Args:
        headers: The request headers.

    Returns:
        True when both the ``Connection`` and ``Upgrade`` headers say so.
    """
    return "upgrade" in header_tokens(headers, b"connection") and "websocket" in header_tokens(
        headers, b"upgrade"
    )


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value for a ``Sec-WebSocket-Key``.

    Args:
        key: The client's key.

    Returns:
        base64(SHA-1(key + GUID)).
    """
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii"), usedforsecurity=False).digest()
    return binascii.b2a_base64(digest, newline=False).decode("ascii")


def _valid_key(key: str | None) -> bool:
    """Whether ``key`` is base64 for 16 bytes (as ``b64decode(key, validate=True)`` checks)."""
    return key is not None and _KEY.fullmatch(key) is not None


def _tokens(value: bytes | None) -> list[str]:
    """`header_tokens` of a header's (comma-joined) value."""
    if value is None:
        return []
    text = value.decode("latin-1")
    return [token for part in text.split(",") if (token := part.strip(" \t").lower())]


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def accept_upgrade(
    method: str,
    headers: RawHeaders,
    *,
    deflate: DeflateOptions | None = None,
    subprotocols: Sequence[str] = (),
    extra_headers: Headers = (),
) -> UpgradeResult:
    """Server side: validate an upgrade request and build the 101 response.

    Args:
        method: The request method.
        headers: The request headers, names lowercased.
        deflate: This server's permessage-deflate preferences, or None to never compress.
        subprotocols: Subprotocols this server speaks, by preference; the first one the client
            also lists is chosen.
        extra_headers: More headers for the 101 response.

    Returns:
        The agreement, with `UpgradeResult.response` holding the 101 response bytes.

    Raises:
        HandshakeError: The request is not a valid WebSocket upgrade (``http_status`` 400), or
            asks for a version other than 13 (``http_status`` 426).
    """
    if method != "GET":
        raise HandshakeError("WebSocket upgrade must use GET")
    # Every header read here, in one pass: each one's values joined with commas (as
    # `header_value` joins them).
    found: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in _UPGRADE_HEADERS:
            found[name] = found[name] + b"," + value if name in found else value
    if "websocket" not in _tokens(found.get(b"upgrade")):
        raise HandshakeError("missing Upgrade: websocket")
    if "upgrade" not in _tokens(found.get(b"connection")):
        raise HandshakeError("missing Connection: upgrade")
    version = _text(found.get(b"sec-websocket-version"))
    if version is None:
        raise HandshakeError("missing Sec-WebSocket-Version")
    if version.strip(" \t") != "13":
        raise HandshakeError("unsupported Sec-WebSocket-Version", http_status=426)
    key = _text(found.get(b"sec-websocket-key"))
    if key is None or not _valid_key(key := key.strip(" \t")):
        raise HandshakeError("missing or invalid Sec-WebSocket-Key")
    # After Upgrade, Connection and Sec-WebSocket-Accept (`_SWITCHING`): the 101's other headers.
    response_headers: list[tuple[str | bytes, str | bytes]] = []
    agreed: DeflateParams | None = None
    if deflate is not None:
        offers = _text(found.get(b"sec-websocket-extensions"))
        accepted = accept_offer([offers], deflate) if offers is not None else None
        if accepted is not None:
            agreed, extension_header = accepted
            response_headers.append(("Sec-WebSocket-Extensions", extension_header))
    subprotocol = None
    requested = _text(found.get(b"sec-websocket-protocol")) if subprotocols else None
    offered = {part.strip(" \t") for part in requested.split(",")} if requested else set()
    for candidate in subprotocols:
        if candidate in offered:
            subprotocol = candidate
            response_headers.append(("Sec-WebSocket-Protocol", candidate))
            break
    response_headers.extend(extra_headers)
    accept = accept_key(key).encode("ascii")
    result = _new(UpgradeResult)
    _set_deflate(result, agreed)
    _set_subprotocol(result, subprotocol)
    _set_origin(result, _text(found.get(b"origin")))
    _set_response(result, b"%b%b\r\n%b\r\n" % (_SWITCHING, accept, header_lines(response_headers)))
    return result


def rejection_response(error: ProtocolError, *, extra_headers: Headers = ()) -> bytes:
    """The HTTP response refusing an upgrade, built from the error `accept_upgrade` raised.

    Args:
        error: The refusal; its ``http_status`` (400 when unset) becomes the status.
        extra_headers: More headers (CORS, for example).

    Returns:
        A complete response with a short text body and ``Connection: close``.
    """
    status = error.http_status or 400
    headers: list[tuple[str | bytes, str | bytes]] = [
        ("Content-Type", "text/plain"),
        ("Connection", "close"),
    ]
    if status == 426:
        headers.append(("Sec-WebSocket-Version", "13"))
    headers.extend(extra_headers)
    return write_response(status, headers, error.message.encode("utf-8", "replace"))


class ClientHandshake:
    """Client side: the upgrade request, and the check of the server's answer.

    Args:
        host: The ``Host`` header value (``example.com`` or ``example.com:8080``).
        target: The request target, path and query (``/socket.io/?EIO=4&transport=websocket``).
        origin: An ``Origin`` header to send, or None.
        deflate: Offer permessage-deflate with these preferences, or None not to.
        subprotocols: Subprotocols to offer, by preference.
        extra_headers: More request headers (cookies, authorization).
        random_bytes: Source of the key (default `os.urandom`).

    Attributes:
        key: The ``Sec-WebSocket-Key`` sent.
        request: The request bytes to write.
    """

    def __init__(
        self,
        host: str,
        target: str,
        *,
        origin: str | None = None,
        deflate: DeflateOptions | None = None,
        subprotocols: Sequence[str] = (),
        extra_headers: Headers = (),
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.key = base64.b64encode(random_bytes(16)).decode("ascii")
        self.deflate = deflate
        self.subprotocols = tuple(subprotocols)
        headers: list[tuple[str | bytes, str | bytes]] = [
            ("Host", host),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", self.key),
            ("Sec-WebSocket-Version", "13"),
        ]
        if origin is not None:
            headers.append(("Origin", origin))
        if deflate is not None:
            headers.append(("Sec-WebSocket-Extensions", build_offer(deflate)))
        if subprotocols:
            headers.append(("Sec-WebSocket-Protocol", ", ".join(subprotocols)))
        headers.extend(extra_headers)
        self.request = write_request("GET", target, headers)

    def validate_response(self, status: int, headers: RawHeaders) -> UpgradeResult:
        """Check the server's response to the request.

        Args:
            status: The response status code.
            headers: The response headers, names lowercased.

        Returns:
            The agreement (`UpgradeResult.response` is empty).

        Raises:
            HandshakeError: Not a 101, wrong ``Upgrade``/``Connection``/``Sec-WebSocket-Accept``,
                or an extension or subprotocol that was not offered.
        """
        if status != 101:
            raise HandshakeError(f"server answered {status} instead of 101", http_status=status)
        if "websocket" not in header_tokens(headers, b"upgrade"):
            raise HandshakeError("response lacks Upgrade: websocket")
        if "upgrade" not in header_tokens(headers, b"connection"):
            raise HandshakeError("response lacks Connection: upgrade")
        if header_value(headers, b"sec-websocket-accept") != accept_key(self.key):
            raise HandshakeError("wrong Sec-WebSocket-Accept")
        extensions = header_value(headers, b"sec-websocket-extensions")
        agreed = accept_response(_present(extensions), self.deflate)
        subprotocol = header_value(headers, b"sec-websocket-protocol")
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise HandshakeError("the server chose a subprotocol that was not offered")
        return UpgradeResult(deflate=agreed, subprotocol=subprotocol)


def _present(value: str | None) -> Iterable[str]:
    return () if value is None else (value,)
