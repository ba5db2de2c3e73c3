"""The 101 and the header reading of `accept_upgrade` match the general writers and readers."""

from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import given, strategies as st

from siox.errors import HandshakeError
from siox.http.deflate import DeflateOptions, accept_offer
from siox.http.handshake import _valid_key, accept_key, accept_upgrade, header_tokens
from siox.http.http11_events import header_value
from siox.http.messages import write_response

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def _reference_valid_key(key: str) -> bool:
    """The check `accept_upgrade` made before it used one regular expression."""
    if len(key) != 24:
        return False
    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except (binascii.Error, UnicodeEncodeError):
        return False


@pytest.mark.parametrize(
    ("extensions", "protocols", "extra"),
    [
        (None, (), ()),
        (b"permessage-deflate; client_max_window_bits", (), ()),
        (None, ("chat",), ()),
        (b"permessage-deflate", ("chat",), (("Set-Cookie", "io=abc; Path=/"),)),
    ],
)
def test_upgrade_response_is_what_write_response_writes(
    extensions: bytes | None, protocols: tuple[str, ...], extra: tuple[tuple[str, str], ...]
) -> None:
    headers = [
        (b"host", b"example.com"),
        (b"upgrade", b"websocket"),
        (b"connection", b"keep-alive, Upgrade"),
        (b"sec-websocket-key", KEY.encode()),
        (b"sec-websocket-version", b"13"),
        (b"sec-websocket-protocol", b"chat, other"),
    ]
    if extensions is not None:
        headers.append((b"sec-websocket-extensions", extensions))
    result = accept_upgrade(
        "GET", headers, deflate=DeflateOptions(), subprotocols=protocols, extra_headers=extra
    )
    expected: list[tuple[str | bytes, str | bytes]] = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_key(KEY)),
    ]
    if extensions is not None:
        accepted = accept_offer([extensions.decode()], DeflateOptions())
        assert accepted is not None and result.deflate == accepted[0]
        expected.append(("Sec-WebSocket-Extensions", accepted[1]))
    if result.subprotocol is not None:
        expected.append(("Sec-WebSocket-Protocol", result.subprotocol))
    expected.extend(extra)
    assert result.response == write_response(101, expected, include_length=False)


def test_upgrade_reads_repeated_headers_joined_as_header_value_does() -> None:
    headers = [
        (b"upgrade", b"h2c"),
        (b"connection", b"keep-alive"),
        (b"sec-websocket-version", b"13"),
        (b"upgrade", b"websocket"),
        (b"connection", b"upgrade"),
        (b"sec-websocket-key", KEY.encode()),
        (b"origin", b"https://a.example"),
        (b"origin", b"https://b.example"),
    ]
    assert "websocket" in header_tokens(headers, b"upgrade")
    result = accept_upgrade("GET", headers)
    assert (
        result.origin == header_value(headers, b"origin") == "https://a.example,https://b.example"
    )


def test_an_extra_header_with_a_line_break_is_refused() -> None:
    headers = [
        (b"upgrade", b"websocket"),
        (b"connection", b"upgrade"),
        (b"sec-websocket-key", KEY.encode()),
        (b"sec-websocket-version", b"13"),
    ]
    with pytest.raises(ValueError):
        accept_upgrade("GET", headers, extra_headers=[("Set-Cookie", "a\r\nInjected: 1")])
    with pytest.raises(HandshakeError):
        accept_upgrade("GET", [(n, v) for n, v in headers if n != b"sec-websocket-key"])


@given(st.text(alphabet="ABCabc+/=0129_-!é ", min_size=20, max_size=28))
def test_key_check_agrees_with_a_validating_base64_decode(key: str) -> None:
    assert _valid_key(key) == _reference_valid_key(key)


@given(st.binary(min_size=16, max_size=16))
def test_every_sixteen_byte_key_is_valid(raw: bytes) -> None:
    key = base64.b64encode(raw).decode()
    assert _valid_key(key) and _reference_valid_key(key)
