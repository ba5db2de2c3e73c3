"""Engine.IO request validation and the handshake itself (the OPEN packet, both directions).

Server side, `validate_request` decides what an HTTP request on the Engine.IO path is, from its
method, query parameters and headers: the start of a `NewSession`, a request for an
`ExistingSession`, or a refusal, raised as `siox.errors.HandshakeError` with the HTTP status and
the Engine.IO error code and message of the reference server (protocol.md 3.8)::

    try:
        decision = validate_request("GET", query, headers, is_websocket_upgrade=False,
                                    sessions=sessions)
    except HandshakeError as exc:
        respond(exc.http_status, error_document(exc))  # {"code":1,"message":"Session ID unknown"}

The checks run in the reference's order (engine.io 6.6 ``verify`` + ``handshake``): transport,
Origin header characters, then either the session (unknown sid, transport or protocol mismatch)
or the handshake rules (GET only, WebSocket needs an Upgrade, protocol revision). Deliberately
stricter than the reference (api.md): a request with WebSocket Upgrade headers whose query says
``transport=polling`` is refused (400, code 3) instead of being accepted and closed; a plain
GET with ``transport=websocket`` for an existing sid is refused instead of hanging; a second
WebSocket for a session that is upgrading or upgraded is refused here instead of being accepted
and closed; a method other than GET/POST on an existing sid is a 400 (code 3) instead of a bare
500; a JSONP index ``j`` must be decimal digits.

Attacker-controlled strings are only ever compared with constants or used as keys of plain
dicts: no attribute lookup, no ``getattr``, no import driven by a query value (CVE-2023-31125).

`build_open_data` writes the OPEN packet's JSON with exactly the keys the conformance suites
check; `parse_open_data` is the client's strict reader of it. `new_sid` makes session ids.
"""

from __future__ import annotations

import binascii
import json
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import lru_cache
from json.encoder import encode_basestring_ascii
from typing import Any, Generic, Protocol, TypeVar

from ..errors import HandshakeError, InvalidPacket, ProtocolError

__all__ = [
    "ERROR_MESSAGES",
    "EngineErrorCode",
    "ExistingSession",
    "HandshakeInfo",
    "KnownSession",
    "NewSession",
    "Transport",
    "build_open_data",
    "error_document",
    "forbidden",
    "handshake_error",
    "new_sid",
    "parse_open_data",
    "validate_request",
]


class Transport(StrEnum):
    """The Engine.IO transports siox speaks; the value is the ``transport`` query parameter."""

    POLLING = "polling"
    WEBSOCKET = "websocket"


class EngineErrorCode(IntEnum):
    """The ``code`` of an Engine.IO JSON error document."""

    UNKNOWN_TRANSPORT = 0
    UNKNOWN_SID = 1
    BAD_HANDSHAKE_METHOD = 2
    BAD_REQUEST = 3
    FORBIDDEN = 4
    UNSUPPORTED_PROTOCOL_VERSION = 5


#: The reference server's exact message for each error code.
ERROR_MESSAGES: Mapping[EngineErrorCode, str] = {
    EngineErrorCode.UNKNOWN_TRANSPORT: "Transport unknown",
    EngineErrorCode.UNKNOWN_SID: "Session ID unknown",
    EngineErrorCode.BAD_HANDSHAKE_METHOD: "Bad handshake method",
    EngineErrorCode.BAD_REQUEST: "Bad request",
    EngineErrorCode.FORBIDDEN: "Forbidden",
    EngineErrorCode.UNSUPPORTED_PROTOCOL_VERSION: "Unsupported protocol version",
}

# Plain dict: a query value is only ever a key here, never an attribute name.
_TRANSPORT_OF_NAME = {t.value: t for t in Transport}
# Enum members as constants: an attribute of an Enum class is a slow lookup on Python 3.11.
_POLLING = Transport.POLLING
_WEBSOCKET = Transport.WEBSOCKET
# Node's checkInvalidHeaderChar: HTAB, visible ASCII, space and obs-text (0x80-0xFF) only.
_INVALID_HEADER_CHAR = re.compile(r"[^\t\x20-\x7e\x80-\xff]")
_JSONP_INDEX = re.compile(r"[0-9]{1,9}")
_SID_CHARS = re.compile(r"[\x21-\x7e]{1,256}")
_MAX_OPEN_DATA = 65_536
_MAX_TIMER_MS = 2**31 - 1  # JavaScript's setTimeout limit
_MAX_SAFE_INTEGER = 2**53 - 1
_SID_BYTES = 15  # 15 random bytes = 20 URL-safe base64 characters, base64id's length
_URL_SAFE = bytes.maketrans(b"+/", b"-_")


class KnownSession(Protocol):
    """What `validate_request` reads from a live session (`EngineSession` has all of it)."""

    @property
    def eio(self) -> int:
        """The session's Engine.IO revision."""
        ...

    @property
    def transport(self) -> Transport:
        """The session's current transport."""
        ...

    @property
    def closed(self) -> bool:
        """Whether the session is over (its sid is then unknown)."""
        ...

    @property
    def can_upgrade(self) -> bool:
        """Whether a WebSocket may attach now to probe an upgrade."""
        ...


S = TypeVar("S", bound=KnownSession)


@dataclass(frozen=True, slots=True)
class NewSession:
    """The request opens a new session (the driver may still refuse it with `forbidden`).

    Attributes:
        transport: the transport asked for.
        eio: the Engine.IO revision, 4 or 3.
        b64: the client asked for binary as base64 (``b64`` query parameter set).
        jsonp_index: the JSONP callback index ``j`` of a polling request, or None.
    """

    transport: Transport
    eio: int
    b64: bool
    jsonp_index: int | None


@dataclass(frozen=True, slots=True)
class ExistingSession(Generic[S]):
    """The request belongs to a live session.

    Attributes:
        sid: the session id.
        session: the session, as found in the ``sessions`` mapping.
        transport: the transport of this request.
        upgrade: True for a WebSocket that wants to upgrade a polling session (call
            ``attach_websocket``); False for a polling GET or POST.
        jsonp_index: the JSONP callback index ``j`` of a polling request, or None.
    """

    sid: str
    session: S
    transport: Transport
    upgrade: bool
    jsonp_index: int | None


def handshake_error(code: EngineErrorCode, message: str | None = None) -> HandshakeError:
    """The `HandshakeError` for ``code``: HTTP 403 for FORBIDDEN, 400 otherwise.

    Args:
        code: the Engine.IO error code.
        message: the message of the JSON document; the reference's for ``code`` when None.
    """
    status = 403 if code == EngineErrorCode.FORBIDDEN else 400
    text = ERROR_MESSAGES[code] if message is None else message
    return HandshakeError(text, http_status=status, eio_error=int(code))


def forbidden(message: str | None = None) -> HandshakeError:
    """The error for a handshake the application refused (``allowRequest``): 403, code 4.

    Args:
        message: the message to send instead of ``"Forbidden"``.
    """
    return handshake_error(EngineErrorCode.FORBIDDEN, message)


def error_document(error: ProtocolError) -> str | None:
    """The JSON body ``{"code":N,"message":"..."}`` for ``error``, or None when it has no code.

    Send it with ``Content-Type: application/json`` and ``error.http_status``; for a refused
    WebSocket upgrade the reference sends ``error.message`` as the body of a raw 400 instead.
    """
    if error.eio_error is None:
        return None
    return json.dumps({"code": error.eio_error, "message": error.message}, separators=(",", ":"))


def new_sid() -> str:
    """A new session id: 20 URL-safe characters, 120 bits of ``os.urandom`` in base64."""
    return binascii.b2a_base64(os.urandom(_SID_BYTES), newline=False).translate(_URL_SAFE).decode()


def _request_eio(query: Mapping[str, str]) -> int:
    # The reference reads any EIO value other than "4" (missing, "abc", "5") as revision 3.
    return 4 if query.get("EIO") == "4" else 3


def _jsonp_index(query: Mapping[str, str], transport: Transport) -> int | None:
    j = query.get("j")
    if j is None or transport is not _POLLING:
        return None
    # Deliberately stricter: the reference strips the non-digits of ``j``.
    if _JSONP_INDEX.fullmatch(j) is None:
        raise handshake_error(EngineErrorCode.BAD_REQUEST)
    return int(j)


def _origin_is_invalid(headers: Mapping[str, str]) -> bool:
    for name, value in headers.items():
        if name.lower() == "origin" and _INVALID_HEADER_CHAR.search(value) is not None:
            return True
    return False


def validate_request(
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    *,
    is_websocket_upgrade: bool,
    sessions: Mapping[str, S],
    transports: Collection[Transport | str] = (Transport.POLLING, Transport.WEBSOCKET),
    allow_eio3: bool = False,
) -> NewSession | ExistingSession[S]:
    """Decide what an Engine.IO HTTP request is, or refuse it.

    CORS preflights (OPTIONS) and the application's ``allowRequest`` hook are the driver's:
    answer the former before calling this, and run the latter on a `NewSession` (refuse with
    `forbidden`).

    Args:
        method: the HTTP method, as sent (``"GET"``).
        query: the query parameters (for a repeated name, the last value, as the reference).
        headers: the request headers; names are compared case-insensitively.
        is_websocket_upgrade: the request carries WebSocket Upgrade headers.
        sessions: the live sessions by sid.
        transports: the transports the server accepts (a frozenset: of `Transport` values).
        allow_eio3: accept Engine.IO v3 handshakes (``allowEIO3``).

    Returns:
        `NewSession` or `ExistingSession`.

    Raises:
        HandshakeError: the request must be refused; ``http_status``, ``eio_error`` and
            ``message`` are the reference's answer.
        ValueError: ``transports`` names an unknown transport.
    """
    # A frozenset is taken as it is: the server passes its own, of `Transport`, made once.
    enabled = transports if type(transports) is frozenset else {Transport(t) for t in transports}
    transport = _TRANSPORT_OF_NAME.get(query.get("transport", ""))
    if transport is None or transport not in enabled:
        raise handshake_error(EngineErrorCode.UNKNOWN_TRANSPORT)
    if _origin_is_invalid(headers):
        raise handshake_error(EngineErrorCode.BAD_REQUEST)
    # Deliberately stricter (hostile-inputs U09): Upgrade headers with transport=polling.
    upgrade_mismatch = is_websocket_upgrade != (transport is _WEBSOCKET)
    sid = query.get("sid")
    if sid:
        session = sessions.get(sid)
        if session is None or session.closed:
            raise handshake_error(EngineErrorCode.UNKNOWN_SID)
        if upgrade_mismatch or _request_eio(query) != session.eio:
            raise handshake_error(EngineErrorCode.BAD_REQUEST)
        if transport is _WEBSOCKET:
            if session.transport is _WEBSOCKET or not session.can_upgrade:
                raise handshake_error(EngineErrorCode.BAD_REQUEST)
            return ExistingSession(sid, session, transport, True, None)
        if session.transport is not _POLLING or method not in ("GET", "POST"):
            raise handshake_error(EngineErrorCode.BAD_REQUEST)
        return ExistingSession(sid, session, transport, False, _jsonp_index(query, transport))
    if method != "GET":
        raise handshake_error(EngineErrorCode.BAD_HANDSHAKE_METHOD)
    if upgrade_mismatch:
        raise handshake_error(EngineErrorCode.BAD_REQUEST)
    eio = _request_eio(query)
    if eio == 3 and not allow_eio3:
        raise handshake_error(EngineErrorCode.UNSUPPORTED_PROTOCOL_VERSION)
    return NewSession(transport, eio, bool(query.get("b64")), _jsonp_index(query, transport))


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def build_open_data(
    sid: str,
    *,
    upgrades: Collection[str],
    ping_interval: float,
    ping_timeout: float,
    max_payload: int,
) -> str:
    """The JSON of the OPEN packet: exactly sid, upgrades, pingInterval, pingTimeout, maxPayload.

    Args:
        sid: the session id.
        upgrades: the transports the client may upgrade to.
        ping_interval: seconds (sent as integer milliseconds).
        ping_timeout: seconds (sent as integer milliseconds).
        max_payload: bytes.
    """
    # Only the sid changes from one session to the next: the rest is encoded once.
    rest = _open_data_rest(tuple(upgrades), ping_interval, ping_timeout, max_payload)
    return '{"sid":' + encode_basestring_ascii(sid) + rest  # as json.dumps quotes a str


@lru_cache(maxsize=16)
def _open_data_rest(
    upgrades: tuple[str, ...], ping_interval: float, ping_timeout: float, max_payload: int
) -> str:
    """``,"upgrades":...}``: the OPEN packet's JSON after the sid."""
    data = {
        "upgrades": list(upgrades),
        "pingInterval": _ms(ping_interval),
        "pingTimeout": _ms(ping_timeout),
        "maxPayload": max_payload,
    }
    return "," + json.dumps(data, separators=(",", ":"))[1:]


@dataclass(frozen=True, slots=True)
class HandshakeInfo:
    """The server's OPEN packet, as a client read it.

    Attributes:
        sid: the session id (1-256 visible ASCII characters).
        upgrades: transports offered for an upgrade (names other than strings are refused).
        ping_interval: seconds.
        ping_timeout: seconds.
        max_payload: bytes, or None when the server did not send ``maxPayload``.
    """

    sid: str
    upgrades: tuple[str, ...]
    ping_interval: float
    ping_timeout: float
    max_payload: int | None


def _milliseconds(document: dict[str, Any], key: str, minimum: int) -> int:
    value = document.get(key)
    if type(value) is not int or not minimum <= value <= _MAX_TIMER_MS:
        raise InvalidPacket(f"handshake {key} must be an integer in [{minimum}, {_MAX_TIMER_MS}]")
    return value


def parse_open_data(data: str | bytes) -> HandshakeInfo:
    """Read the JSON of an OPEN packet strictly (client side).

    Unknown keys are ignored (a newer server may add some); the known ones must have the
    right types: ``sid`` a string of 1-256 visible ASCII characters, ``upgrades`` a list of at
    most 16 short strings, ``pingInterval`` (> 0) and ``pingTimeout`` (>= 0) integers of
    milliseconds below 2**31, ``maxPayload`` (optional) a positive integer.

    Raises:
        InvalidPacket: the data is not such a JSON object.
    """
    if not isinstance(data, str) or len(data) > _MAX_OPEN_DATA:
        raise InvalidPacket("the handshake must be a text packet of at most 64 KiB")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidPacket(f"the handshake is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidPacket("the handshake must be a JSON object")
    sid = document.get("sid")
    if not isinstance(sid, str) or _SID_CHARS.fullmatch(sid) is None:
        raise InvalidPacket("handshake sid must be 1-256 visible ASCII characters")
    upgrades = document.get("upgrades")
    if (
        not isinstance(upgrades, list)
        or len(upgrades) > 16
        or not all(isinstance(u, str) and len(u) <= 64 for u in upgrades)
    ):
        raise InvalidPacket("handshake upgrades must be a list of at most 16 short strings")
    interval = _milliseconds(document, "pingInterval", 1)
    timeout = _milliseconds(document, "pingTimeout", 0)
    max_payload = document.get("maxPayload")
    if max_payload is not None and (
        type(max_payload) is not int or not 0 < max_payload <= _MAX_SAFE_INTEGER
    ):
        raise InvalidPacket("handshake maxPayload must be a positive integer")
    return HandshakeInfo(sid, tuple(upgrades), interval / 1000, timeout / 1000, max_payload)
