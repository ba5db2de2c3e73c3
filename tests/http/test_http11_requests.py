from __future__ import annotations

import time

import pytest
from hypothesis import given, strategies as st

from changing import now
from siox.http.http11 import (
    Body,
    EndOfMessage,
    HttpError,
    HttpEvent,
    ParserState,
    Request,
    RequestParser,
    SwitchedProtocols,
)

GET = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: example.com\r\n\r\n"


def post(body: bytes, *headers: bytes) -> bytes:
    head = b"POST /socket.io/?EIO=4&sid=abc HTTP/1.1\r\nHost: x\r\n"
    head += b"".join(h + b"\r\n" for h in headers)
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def kinds(events: list[HttpEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def error_status(events: list[HttpEvent]) -> int | None:
    errors = [e for e in events if isinstance(e, HttpError)]
    return errors[0].status if errors else None


def test_get_request_is_parsed() -> None:
    events = RequestParser().receive_data(GET)
    assert kinds(events) == ["Request", "EndOfMessage"]
    request = events[0]
    assert isinstance(request, Request)
    assert request.method == "GET"
    assert request.target == "/socket.io/?EIO=4&transport=polling"
    assert request.path == "/socket.io/"
    assert request.query == "EIO=4&transport=polling"
    assert request.headers == ((b"host", b"example.com"),)
    assert request.http_version == "1.1"
    assert request.keep_alive
    assert not request.upgrade


def test_header_names_are_lowercased_and_values_stripped() -> None:
    data = b"GET / HTTP/1.1\r\nX-Thing:   v a l  \r\nCookie: a=1\r\ncookie: b=2\r\n\r\n"
    request = RequestParser().receive_data(data)[0]
    assert isinstance(request, Request)
    assert request.headers == ((b"x-thing", b"v a l"), (b"cookie", b"a=1"), (b"cookie", b"b=2"))
    assert request.header(b"cookie") == "a=1,b=2"
    assert request.header(b"missing") is None


def test_post_body_arrives_in_pieces_as_it_is_fed() -> None:
    parser = RequestParser()
    data = post(b"4hello world")
    head, body = data[:-12], data[-12:]
    assert kinds(parser.receive_data(head)) == ["Request"]
    assert now(parser.state) is ParserState.BODY
    assert parser.receive_data(body[:5]) == [Body(b"4hell")]
    assert parser.receive_data(body[5:]) == [Body(b"o world"), EndOfMessage()]
    assert parser.state is ParserState.IDLE


def test_chunked_body_is_decoded() -> None:
    data = (
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    events = RequestParser().receive_data(data)
    assert events[1:] == [Body(b"hello"), Body(b" world"), EndOfMessage()]


def test_keep_alive_follows_version_and_connection_header() -> None:
    close = RequestParser().receive_data(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")[0]
    old = RequestParser().receive_data(b"GET / HTTP/1.0\r\n\r\n")[0]
    assert isinstance(close, Request)
    assert isinstance(old, Request)
    assert not close.keep_alive
    assert not old.keep_alive
    assert old.http_version == "1.0"


def test_pipelined_requests_come_out_in_order() -> None:
    data = GET + post(b"abc") + GET
    events = RequestParser().receive_data(data)
    assert kinds(events) == [
        "Request",
        "EndOfMessage",
        "Request",
        "Body",
        "EndOfMessage",
        "Request",
        "EndOfMessage",
    ]


def test_a_thousand_pipelined_requests_parse_quickly() -> None:
    data = GET * 1000
    start = time.perf_counter()
    events = RequestParser().receive_data(data)
    assert time.perf_counter() - start < 0.5
    assert len(events) == 2000


def test_upgrade_request_hands_over_the_remaining_bytes() -> None:
    data = (
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85frame"
    )
    parser = RequestParser()
    events = parser.receive_data(data)
    assert kinds(events) == ["Request", "EndOfMessage", "SwitchedProtocols"]
    assert isinstance(events[0], Request)
    assert events[0].upgrade
    assert events[-1] == SwitchedProtocols(b"\x81\x85frame")
    assert parser.state is ParserState.UPGRADED


def test_upgrade_split_across_reads_keeps_all_remaining_bytes() -> None:
    data = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nABCDEF"
    for step in range(1, len(data) + 1):
        parser = RequestParser()
        chunks = [data[i : i + step] for i in range(0, len(data), step)]
        for n, chunk in enumerate(chunks):
            upgraded = [e for e in parser.receive_data(chunk) if isinstance(e, SwitchedProtocols)]
            if upgraded:
                assert upgraded[0].data + b"".join(chunks[n + 1 :]) == b"ABCDEF"
                break
        else:
            pytest.fail("no SwitchedProtocols event")
        with pytest.raises(RuntimeError):
            parser.receive_data(b"bytes for the new protocol")


def test_u08_h2c_upgrade_is_reported_for_the_server_to_refuse() -> None:
    data = (
        b"GET /socket.io/ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"
    )
    events = RequestParser().receive_data(data)
    assert kinds(events) == ["Request", "EndOfMessage", "SwitchedProtocols"]
    assert isinstance(events[0], Request)
    assert events[0].header(b"upgrade") == "h2c"


# --- H08: body size ---------------------------------------------------------------------


def test_h08_declared_body_over_the_limit_is_413_before_any_body() -> None:
    parser = RequestParser()
    head = b"POST /socket.io/?sid=x HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n"
    events = parser.receive_data(head)
    assert kinds(events) == ["Request", "HttpError"]
    assert error_status(events) == 413
    assert parser.state is ParserState.FAILED
    assert parser.receive_data(b"x" * 100_000) == []


def test_h08_chunked_body_over_the_limit_is_413_as_bytes_arrive() -> None:
    parser = RequestParser(max_body_size=10)
    events = parser.receive_data(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    events += parser.receive_data(b"6\r\nabcdef\r\n")
    assert error_status(events) is None
    events += parser.receive_data(b"6\r\nghijkl\r\n")
    assert error_status(events) == 413
    assert sum(len(e.data) for e in events if isinstance(e, Body)) == 6  # nothing past the limit


def test_h08_body_exactly_at_the_limit_is_accepted() -> None:
    events = RequestParser(max_body_size=5).receive_data(post(b"12345"))
    assert kinds(events) == ["Request", "Body", "EndOfMessage"]


def test_no_body_limit_when_none() -> None:
    events = RequestParser(max_body_size=None).receive_data(post(b"x" * 2_000_000))
    assert kinds(events)[-1] == "EndOfMessage"


# --- H10: malformed framing -------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
        b"GET /\x00 HTTP/1.1\r\n\r\n",
        b"G@T / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello on a plain port
    ],
)
def test_h10_malformed_requests_are_400_without_exceptions(head: bytes) -> None:
    parser = RequestParser()
    events = parser.receive_data(head)
    assert error_status(events) == 400
    assert parser.state is ParserState.FAILED
    assert parser.receive_data(GET) == []


def test_h10_body_longer_than_content_length_is_400_not_buffered() -> None:
    parser = RequestParser()
    events = parser.receive_data(post(b"0123456789")[:-10] + b"0123456789" + b"x" * 10_000_000)
    assert kinds(events) == ["Request", "Body", "EndOfMessage", "HttpError"]
    assert events[1] == Body(b"0123456789")
    assert error_status(events) == 400


# --- head size --------------------------------------------------------------------------


def test_header_block_over_the_limit_in_one_read_is_431() -> None:
    data = b"GET / HTTP/1.1\r\nX: " + b"a" * 40_000 + b"\r\n\r\n"
    events = RequestParser(max_header_size=16_384).receive_data(data)
    assert error_status(events) == 431


def test_header_block_trickled_byte_by_byte_is_431_near_the_limit() -> None:
    parser = RequestParser(max_header_size=1000)
    data = b"GET / HTTP/1.1\r\nX: " + b"a" * 5000
    for i, byte in enumerate(data):
        events = parser.receive_data(bytes([byte]))
        if events:
            assert error_status(events) == 431
            assert i <= 1000
            break
    else:
        pytest.fail("no 431")


def test_long_url_counts_towards_the_head_limit() -> None:
    data = b"GET /" + b"a" * 17_000 + b" HTTP/1.1\r\n\r\n"
    assert error_status(RequestParser().receive_data(data)) == 431


def test_head_after_a_pipelined_request_is_bounded_by_twice_the_limit() -> None:
    parser = RequestParser(max_header_size=1000)
    events = parser.receive_data(GET + b"GET /" + b"a" * 3000)
    assert error_status(events) == 431


def test_head_just_under_the_limit_is_accepted() -> None:
    data = b"GET / HTTP/1.1\r\nX: " + b"a" * 900 + b"\r\n\r\n"
    assert len(data) < 1000
    events = RequestParser(max_header_size=1000).receive_data(data)
    assert kinds(events) == ["Request", "EndOfMessage"]


def test_large_body_after_a_head_does_not_count_as_head() -> None:
    events = RequestParser(max_header_size=100).receive_data(post(b"b" * 50_000))
    assert kinds(events)[-1] == "EndOfMessage"


# --- H12: timers ------------------------------------------------------------------------


def test_h12_slow_request_times_out_with_408() -> None:
    parser = RequestParser(request_timeout=30.0)
    assert parser.next_deadline() is None
    parser.receive_data(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n1", now=100.0)
    assert parser.next_deadline() == 130.0
    parser.receive_data(b"2", now=110.0)  # trickling bytes does not extend the deadline
    assert parser.next_deadline() == 130.0
    assert parser.handle_timer(129.9) == []
    assert parser.handle_timer(130.0) == [HttpError(408, "request timed out")]
    assert parser.state is ParserState.FAILED
    assert parser.next_deadline() is None


def test_h12_completed_request_clears_the_deadline() -> None:
    parser = RequestParser(request_timeout=30.0)
    parser.receive_data(GET, now=5.0)
    assert parser.next_deadline() is None
    assert parser.handle_timer(1000.0) == []
    parser.receive_data(GET[:10], now=50.0)
    assert parser.next_deadline() == 80.0


# --- EOF --------------------------------------------------------------------------------


def test_eof_in_the_middle_of_a_request_is_400() -> None:
    parser = RequestParser()
    parser.receive_data(GET[:20])
    assert error_status(parser.receive_eof()) == 400


def test_eof_between_requests_is_quiet() -> None:
    parser = RequestParser()
    parser.receive_data(GET)
    assert parser.receive_eof() == []


# --- H17: targets as sent ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "path"),
    [
        (b"/socket.io", "/socket.io"),
        (b"/socket.io/", "/socket.io/"),
        (b"//socket.io/", "//socket.io/"),
        (b"/socket.io/../socket.io/", "/socket.io/../socket.io/"),
        (b"/SOCKET.IO/", "/SOCKET.IO/"),
        (b"/socket.io/%2e%2e/", "/socket.io/%2e%2e/"),
        (b"http://example.com/socket.io/?EIO=4", "/socket.io/"),
        (b"*", "*"),
    ],
)
def test_h17_paths_are_reported_exactly_as_sent(target: bytes, path: str) -> None:
    method = b"OPTIONS" if target == b"*" else b"GET"
    events = RequestParser().receive_data(method + b" " + target + b" HTTP/1.1\r\n\r\n")
    request = events[0]
    assert isinstance(request, Request)
    assert request.path == path


# --- properties -------------------------------------------------------------------------


@given(st.binary(max_size=400), st.integers(min_value=1, max_value=50))
def test_arbitrary_bytes_only_ever_produce_events(data: bytes, step: int) -> None:
    parser = RequestParser(max_header_size=200, max_body_size=100)
    for i in range(0, len(data), step):
        if parser.state is ParserState.UPGRADED:
            break
        for event in parser.receive_data(data[i : i + step]):
            assert isinstance(event, Request | Body | EndOfMessage | SwitchedProtocols | HttpError)
    parser.receive_eof()


prefixes = st.sampled_from(
    [
        GET,
        post(b"hello"),
        b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ]
)


@given(st.lists(prefixes, min_size=1, max_size=4), st.binary(max_size=40), st.data())
def test_any_split_of_the_input_gives_the_same_messages(
    requests: list[bytes], tail: bytes, data: st.DataObject
) -> None:
    stream = b"".join(requests) + tail
    whole = RequestParser().receive_data(stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    parser = RequestParser()
    pieces = []
    previous = 0
    for cut in [*cuts, len(stream)]:
        pieces += parser.receive_data(stream[previous:cut])
        previous = cut

    def merged(events: list[HttpEvent]) -> list[object]:
        out: list[object] = []
        for event in events:
            if isinstance(event, Body) and out and isinstance(out[-1], bytes):
                out[-1] += event.data
            else:
                out.append(event.data if isinstance(event, Body) else type(event))
        return out

    assert merged(pieces) == merged(whole)
