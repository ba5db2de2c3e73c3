from __future__ import annotations

import pytest

from siox.http.http11 import Body, Request, RequestParser
from siox.http.messages import write_request, write_response, write_response_head


def test_response_gets_content_length_and_reason() -> None:
    assert write_response(200, [("Content-Type", "text/plain")], b"ok") == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
    )


def test_given_content_length_is_not_duplicated() -> None:
    data = write_response(200, [(b"content-length", b"2")], b"ok")
    assert data.count(b"ength") == 1


def test_custom_and_unknown_reason_phrases() -> None:
    assert write_response_head(299).startswith(b"HTTP/1.1 299 \r\n")
    assert write_response_head(200, reason="Fine").startswith(b"HTTP/1.1 200 Fine\r\n")


@pytest.mark.parametrize(
    "header",
    [
        ("X-Evil", "a\r\nSet-Cookie: x=1"),
        ("X-Evil", "a\nb"),
        ("X-Evil", "a\x00b"),
        ("Bad Name", "v"),
        ("", "v"),
        ("X:Y", "v"),
        (b"X-Evil", b"\r\n\r\n<html>"),
    ],
)
def test_header_injection_is_refused(header: tuple[str | bytes, str | bytes]) -> None:
    with pytest.raises(ValueError, match="invalid"):
        write_response(200, [header])


def test_invalid_status_and_reason_are_refused() -> None:
    with pytest.raises(ValueError, match="status"):
        write_response_head(99)
    with pytest.raises(ValueError, match="reason"):
        write_response_head(200, reason="OK\r\nX: y")


def test_request_round_trips_through_the_parser() -> None:
    data = write_request("POST", "/socket.io/?EIO=4&sid=x", [("Host", "h")], b"4hi")
    events = RequestParser().receive_data(data)
    request = events[0]
    assert isinstance(request, Request)
    assert (request.method, request.target) == ("POST", "/socket.io/?EIO=4&sid=x")
    assert request.header(b"content-length") == "3"
    assert events[1] == Body(b"4hi")


def test_request_without_body_has_no_content_length() -> None:
    assert write_request("GET", "/", [("Host", "h")]) == b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
    assert b"Content-Length: 0" in write_request("POST", "/", [], b"")


@pytest.mark.parametrize(
    ("method", "target"), [("G T", "/"), ("", "/"), ("GET", "/a b"), ("GET", "")]
)
def test_invalid_request_line_is_refused(method: str, target: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        write_request(method, target)
