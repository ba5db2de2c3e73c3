from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from siox.errors import HandshakeError
from siox.http.deflate import DeflateOptions
from siox.http.handshake import (
    ClientHandshake,
    accept_key,
    accept_upgrade,
    header_tokens,
    is_websocket_upgrade,
    rejection_response,
)
from siox.http.http11 import Request, RequestParser, Response, ResponseParser, SwitchedProtocols

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

Headers = list[tuple[bytes, bytes]]


def upgrade_headers(**overrides: bytes | None) -> Headers:
    base: dict[str, bytes | None] = {
        "host": b"example.com",
        "upgrade": b"websocket",
        "connection": b"Upgrade",
        "sec-websocket-key": RFC_KEY.encode(),
        "sec-websocket-version": b"13",
    }
    base.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return [(k.encode(), v) for k, v in base.items() if v is not None]


def refusal(headers: Headers, method: str = "GET") -> HandshakeError:
    with pytest.raises(HandshakeError) as info:
        accept_upgrade(method, headers)
    return info.value


def best_time(action: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def test_accept_key_matches_rfc_example() -> None:
    assert accept_key(RFC_KEY) == RFC_ACCEPT


def test_valid_upgrade_gets_a_101_response() -> None:
    result = accept_upgrade("GET", upgrade_headers(origin=b"https://app.example"))
    assert result.response == (
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + RFC_ACCEPT.encode() + b"\r\n\r\n"
    )
    assert result.deflate is None
    assert result.subprotocol is None
    assert result.origin == "https://app.example"  # W13: exposed for the server's policy


def test_token_headers_are_case_insensitive_lists() -> None:
    headers = upgrade_headers(connection=b"keep-alive, UPGRADE", upgrade=b"WebSocket")
    assert accept_upgrade("GET", headers).response.startswith(b"HTTP/1.1 101")
    split = [(b"connection", b"keep-alive"), (b"connection", b"upgrade")]
    assert header_tokens(split, b"connection") == ["keep-alive", "upgrade"]


def test_extra_headers_are_added_to_the_101() -> None:
    result = accept_upgrade("GET", upgrade_headers(), extra_headers=[("Set-Cookie", "a=1")])
    assert b"Set-Cookie: a=1\r\n" in result.response


@pytest.mark.parametrize(
    "key",
    [
        None,
        b"",
        b"not base64 at all!!!!!!!",
        b"dGhlIHNhbXBsZSBub25jZQ",  # missing padding
        b"dGhlIHNhbXBsZSBub25jZQ==dGhl",  # too long
        b"dGhlIHNhbXBsZSBub25j",  # 15 bytes
        b"AAAAAAAAAAAAAAAAAAAAAAA=",  # 17 bytes
        b"dGhlIHNhbXBs ZSBub25jZQ=",
        "dGhlIHNhbXBsZSBub25jZQé=".encode(),
    ],
)
def test_w12_missing_or_invalid_key_is_400(key: bytes | None) -> None:
    error = refusal(upgrade_headers(sec_websocket_key=key))
    assert error.http_status == 400


@pytest.mark.parametrize("version", [b"8", b"12", b"14", b"13, 8", b"abc"])
def test_w12_unsupported_version_is_426_naming_version_13(version: bytes) -> None:
    error = refusal(upgrade_headers(sec_websocket_version=version))
    assert error.http_status == 426
    response = rejection_response(error)
    assert response.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"\r\nSec-WebSocket-Version: 13\r\n" in response


def test_w12_missing_version_is_400() -> None:
    assert refusal(upgrade_headers(sec_websocket_version=None)).http_status == 400


@pytest.mark.parametrize(
    ("overrides", "method"),
    [
        ({"upgrade": None}, "GET"),
        ({"upgrade": b"h2c"}, "GET"),
        ({"connection": b"keep-alive"}, "GET"),
        ({"connection": None}, "GET"),
        ({}, "POST"),
    ],
)
def test_requests_that_are_not_websocket_upgrades_are_400(
    overrides: dict[str, bytes | None], method: str
) -> None:
    error = refusal(upgrade_headers(**overrides), method)
    assert error.http_status == 400
    response = rejection_response(error, extra_headers=[("X-Why", "test")])
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close\r\n" in response
    assert b"X-Why: test\r\n" in response
    assert b"Sec-WebSocket-Version" not in response


def test_w10_subprotocol_header_with_100000_spaces_is_linear() -> None:
    hostile = b"a," + b" " * 100_000 + b",b"
    headers = upgrade_headers(sec_websocket_protocol=hostile)
    assert accept_upgrade("GET", headers, subprotocols=["b"]).subprotocol == "b"
    assert best_time(lambda: accept_upgrade("GET", headers, subprotocols=["b", "c"])) < 0.010


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("connection", b"Upgrade"),
        ("upgrade", b"websocket"),
        ("sec_websocket_extensions", b"permessage-deflate"),
        ("sec_websocket_version", b"13"),
    ],
)
def test_w10_any_header_with_100000_spaces_is_linear(name: str, value: bytes) -> None:
    headers = upgrade_headers(**{name: value + b"," + b" " * 100_000 + b",x"})

    def attempt() -> None:
        try:
            accept_upgrade("GET", headers, deflate=DeflateOptions())
        except HandshakeError:
            pass

    assert best_time(attempt) < 0.010


def test_subprotocol_is_chosen_by_server_preference_and_case_sensitive() -> None:
    headers = upgrade_headers(sec_websocket_protocol=b"chat, superchat")
    result = accept_upgrade("GET", headers, subprotocols=["superchat", "chat"])
    assert result.subprotocol == "superchat"
    assert b"Sec-WebSocket-Protocol: superchat\r\n" in result.response
    assert accept_upgrade("GET", headers, subprotocols=["CHAT"]).subprotocol is None
    assert accept_upgrade("GET", headers).subprotocol is None


def test_deflate_is_negotiated_in_the_handshake() -> None:
    headers = upgrade_headers(
        sec_websocket_extensions=b"permessage-deflate; client_max_window_bits"
    )
    result = accept_upgrade("GET", headers, deflate=DeflateOptions())
    assert result.deflate is not None
    assert b"Sec-WebSocket-Extensions: permessage-deflate\r\n" in result.response
    assert accept_upgrade("GET", headers).deflate is None  # the server did not enable it


def test_is_websocket_upgrade() -> None:
    assert is_websocket_upgrade(upgrade_headers())
    assert not is_websocket_upgrade(upgrade_headers(upgrade=b"h2c"))
    assert not is_websocket_upgrade(upgrade_headers(connection=None))


# --- client side ------------------------------------------------------------------------


def client(**options: object) -> ClientHandshake:
    return ClientHandshake(
        "example.com:8080",
        "/socket.io/?EIO=4&transport=websocket",
        random_bytes=lambda n: b"the sample nonce",
        **options,  # type: ignore[arg-type]
    )


def test_client_request_is_well_formed() -> None:
    hs = client(origin="https://app.example", deflate=DeflateOptions(), subprotocols=["x", "y"])
    assert hs.key == RFC_KEY
    assert hs.request == (
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        b"Host: example.com:8080\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n"
        b"Origin: https://app.example\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        b"Sec-WebSocket-Protocol: x, y\r\n\r\n"
    )


def response_headers(**overrides: bytes | None) -> Headers:
    base: dict[str, bytes | None] = {
        "upgrade": b"websocket",
        "connection": b"Upgrade",
        "sec-websocket-accept": RFC_ACCEPT.encode(),
    }
    base.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return [(k.encode(), v) for k, v in base.items() if v is not None]


def test_client_accepts_a_valid_101() -> None:
    result = client().validate_response(101, response_headers())
    assert (result.deflate, result.subprotocol) == (None, None)


@pytest.mark.parametrize(
    ("status", "overrides"),
    [
        (200, {}),
        (101, {"upgrade": None}),
        (101, {"connection": b"close"}),
        (101, {"sec_websocket_accept": b"wrong"}),
        (101, {"sec_websocket_accept": None}),
        (101, {"sec_websocket_extensions": b"permessage-deflate"}),  # not offered
        (101, {"sec_websocket_protocol": b"chat"}),  # not offered
    ],
)
def test_client_rejects_invalid_responses(status: int, overrides: dict[str, bytes | None]) -> None:
    with pytest.raises(HandshakeError):
        client().validate_response(status, response_headers(**overrides))


def test_client_reports_the_refusal_status() -> None:
    with pytest.raises(HandshakeError) as info:
        client().validate_response(403, [])
    assert info.value.http_status == 403


def test_full_handshake_through_both_http_parsers() -> None:
    hs = ClientHandshake("localhost", "/ws", deflate=DeflateOptions(), subprotocols=["chat"])
    server_events = RequestParser().receive_data(hs.request + b"\x81")
    request = server_events[0]
    assert isinstance(request, Request)
    assert request.upgrade
    assert server_events[-1] == SwitchedProtocols(b"\x81")
    accepted = accept_upgrade(
        request.method, request.headers, deflate=DeflateOptions(), subprotocols=["chat"]
    )
    client_events = ResponseParser().receive_data(accepted.response + b"\x82")
    response = client_events[0]
    assert isinstance(response, Response)
    assert client_events[-1] == SwitchedProtocols(b"\x82")
    result = hs.validate_response(response.status, response.headers)
    assert result.deflate == accepted.deflate
    assert result.subprotocol == "chat"
