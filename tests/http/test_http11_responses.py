from __future__ import annotations

from hypothesis import given, strategies as st

from siox.http.http11 import (
    Body,
    EndOfMessage,
    HttpError,
    HttpEvent,
    ParserState,
    Response,
    ResponseParser,
    SwitchedProtocols,
)
from siox.http.messages import write_chunk, write_last_chunk, write_response, write_response_head


def kinds(events: list[HttpEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_response_with_content_length() -> None:
    data = write_response(200, [("Content-Type", "text/plain")], b"4hello")
    events = ResponseParser().receive_data(data)
    assert kinds(events) == ["Response", "Body", "EndOfMessage"]
    response = events[0]
    assert isinstance(response, Response)
    assert (response.status, response.reason) == (200, "OK")
    assert response.header(b"content-type") == "text/plain"
    assert response.keep_alive
    assert events[1] == Body(b"4hello")


def test_chunked_response_written_by_the_writer_parses_back() -> None:
    data = (
        write_response_head(200, [("Content-Type", "application/octet-stream")], chunked=True)
        + write_chunk(b"abc")
        + write_chunk(b"")
        + write_chunk(b"defg")
        + write_last_chunk()
    )
    events = ResponseParser().receive_data(data)
    assert events[1:] == [Body(b"abc"), Body(b"defg"), EndOfMessage()]


def test_two_responses_on_one_connection() -> None:
    data = write_response(200, body=b"a") + write_response(204)
    events = ResponseParser().receive_data(data)
    assert kinds(events) == ["Response", "Body", "EndOfMessage", "Response", "EndOfMessage"]


def test_body_delimited_by_connection_close_ends_at_eof() -> None:
    parser = ResponseParser()
    events = parser.receive_data(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart1")
    assert kinds(events) == ["Response", "Body"]
    assert parser.receive_data(b"part2") == [Body(b"part2")]
    assert parser.receive_eof() == [EndOfMessage()]


def test_eof_inside_a_sized_body_is_an_error() -> None:
    parser = ResponseParser()
    parser.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    events = parser.receive_eof()
    assert [(type(e), getattr(e, "status", None)) for e in events] == [(HttpError, 400)]


def test_switching_protocols_hands_over_the_rest() -> None:
    data = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        b"\x81\x02hi"
    )
    parser = ResponseParser()
    events = parser.receive_data(data)
    assert isinstance(events[0], Response)
    assert events[0].upgrade
    assert events[-1] == SwitchedProtocols(b"\x81\x02hi")
    assert parser.state is ParserState.UPGRADED


def test_response_body_limit_gives_413() -> None:
    parser = ResponseParser(max_body_size=5)
    events = parser.receive_data(write_response(200, body=b"123456"))
    assert [(type(e), getattr(e, "status", None)) for e in events][-1] == (HttpError, 413)


def test_response_header_limit_gives_431() -> None:
    data = b"HTTP/1.1 200 OK\r\nX: " + b"v" * 3000 + b"\r\n\r\n"
    events = ResponseParser(max_header_size=1000).receive_data(data)
    assert [getattr(e, "status", None) for e in events] == [431]


def test_malformed_response_is_an_error_event() -> None:
    events = ResponseParser().receive_data(b"HTTP/1.1 abc\r\n\r\n")
    assert kinds(events) == ["HttpError"]


def test_response_timer() -> None:
    parser = ResponseParser(request_timeout=5.0)
    parser.receive_data(b"HTTP/1.1 200 OK\r\n", now=1.0)
    assert parser.next_deadline() == 6.0
    assert kinds(parser.handle_timer(6.5)) == ["HttpError"]


@given(st.binary(max_size=300))
def test_arbitrary_response_bytes_only_ever_produce_events(data: bytes) -> None:
    parser = ResponseParser(max_header_size=100, max_body_size=50)
    for event in parser.receive_data(data):
        assert isinstance(event, Response | Body | EndOfMessage | SwitchedProtocols | HttpError)
    if parser.state is not ParserState.UPGRADED:
        parser.receive_eof()
