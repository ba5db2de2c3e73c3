from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from changing import now
from siox.http.frames import Opcode, frame_text, parse_close_payload, read_frame_header
from siox.http.websocket import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    ConnectionState,
    Ping,
    Pong,
    Role,
    TextMessage,
    WebSocketConnection,
)

RawFrame = Callable[..., bytes]
PairFactory = Callable[..., tuple[WebSocketConnection, WebSocketConnection]]


def server() -> WebSocketConnection:
    return WebSocketConnection(Role.SERVER)


def sent_close(conn: WebSocketConnection) -> tuple[int, str]:
    """The close frame the connection queued (server role: unmasked)."""
    out = conn.data_to_send()
    header = read_frame_header(out, masked=False, compression=False)
    assert header is not None
    assert header.opcode == Opcode.CLOSE
    return parse_close_payload(out[header.size :])


def assert_fails(conn: WebSocketConnection, data: bytes, code: int) -> None:
    events = conn.receive_data(data)
    assert [type(e) for e in events] == [ConnectionFailed], events
    assert events[0] == ConnectionFailed(code, events[0].reason)  # type: ignore[union-attr]
    assert conn.state is ConnectionState.CLOSED
    assert conn.close_code == code
    assert sent_close(conn)[0] == code
    assert conn.receive_data(b"\x81\x85" + b"\x00" * 9) == []  # input ignored from now on


# --- ordinary traffic -------------------------------------------------------------------


def test_text_and_binary_round_trip_both_directions(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    assert srv.receive_data(cli.send_text("héllo")) == [TextMessage("héllo")]
    assert srv.receive_data(cli.send_binary(b"\x00\xff")) == [BinaryMessage(b"\x00\xff")]
    assert cli.receive_data(srv.send_text("back")) == [TextMessage("back")]
    assert cli.receive_data(srv.send_binary(bytearray(b"b"))) == [BinaryMessage(b"b")]


def test_client_frames_are_masked_with_fresh_keys() -> None:
    keys = iter([b"\x01\x02\x03\x04", b"\x05\x06\x07\x08"])
    cli = WebSocketConnection(Role.CLIENT, random_bytes=lambda n: next(keys))
    first, second = cli.send_text("a"), cli.send_text("a")
    assert first[1] & 0x80
    assert first[2:6] == b"\x01\x02\x03\x04"
    assert second[2:6] == b"\x05\x06\x07\x08"


def test_server_frames_are_unmasked() -> None:
    assert server().send_text("hi") == b"\x81\x02hi"


def test_frame_text_fast_path_matches_send_text(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    assert srv.frame_text("ü".encode()) == srv.send_text("ü") == frame_text("ü".encode())
    assert cli.receive_data(frame_text(b"shared")) == [TextMessage("shared")]
    assert cli.receive_data(srv.frame_binary(b"\x01")) == [BinaryMessage(b"\x01")]


def test_input_split_at_every_byte_gives_the_same_events(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    data = cli.send_text("x" * 200) + cli.send_ping(b"p") + cli.send_binary(b"y" * 70000)
    events = []
    for i in range(0, len(data), 997):
        events += srv.receive_data(data[i : i + 997])
    one_byte = WebSocketConnection(Role.SERVER)
    slow = [e for b in data[:400] for e in one_byte.receive_data(bytes([b]))]
    slow += one_byte.receive_data(data[400:])
    assert events == slow == [TextMessage("x" * 200), Ping(b"p"), BinaryMessage(b"y" * 70000)]


def test_many_frames_in_one_chunk_are_all_delivered(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    data = b"".join(cli.send_text(str(i)) for i in range(1000))
    assert srv.receive_data(data) == [TextMessage(str(i)) for i in range(1000)]


def test_fragmented_message_with_interleaved_control_frames(raw_frame: RawFrame) -> None:
    srv = server()
    data = (
        raw_frame(Opcode.TEXT, b"he", fin=False)
        + raw_frame(Opcode.PING, b"1")
        + raw_frame(Opcode.CONTINUATION, b"ll", fin=False)
        + raw_frame(Opcode.PONG, b"2")
        + raw_frame(Opcode.CONTINUATION, b"o")
    )
    assert srv.receive_data(data) == [Ping(b"1"), Pong(b"2"), TextMessage("hello")]


def test_send_with_fragment_size_splits_into_continuations(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    data = srv.send_binary(b"abcdefghij", fragment_size=4)
    assert [data[0], data[6], data[12]] == [0x02, 0x00, 0x80]
    assert cli.receive_data(data) == [BinaryMessage(b"abcdefghij")]
    with pytest.raises(ValueError, match="positive"):
        srv.send_binary(b"abc", fragment_size=0)


def test_empty_messages_are_delivered(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    assert srv.receive_data(cli.send_text("") + cli.send_binary(b"")) == [
        TextMessage(""),
        BinaryMessage(b""),
    ]


def test_ping_is_answered_automatically_with_the_same_payload(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    assert srv.receive_data(cli.send_ping(b"abc")) == [Ping(b"abc")]
    assert cli.receive_data(srv.data_to_send()) == [Pong(b"abc")]
    assert srv.data_to_send() == b""


def test_control_payload_over_125_bytes_is_refused_locally() -> None:
    with pytest.raises(ValueError, match="125"):
        server().send_ping(b"x" * 126)
    assert server().send_pong(b"x" * 125)[:2] == b"\x8a\x7d"


# --- closing handshake ------------------------------------------------------------------


def test_close_initiated_by_server_completes(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    close = srv.send_close(1001, "going away")
    assert now(srv.state) is ConnectionState.CLOSING
    assert cli.receive_data(close) == [CloseReceived(1001, "going away")]
    assert cli.state is ConnectionState.CLOSED
    assert srv.receive_data(cli.data_to_send()) == [CloseReceived(1001, "going away")]
    assert srv.state is ConnectionState.CLOSED


def test_close_without_code_is_1005_and_echoed_empty(raw_frame: RawFrame) -> None:
    srv = server()
    assert srv.receive_data(raw_frame(Opcode.CLOSE)) == [CloseReceived(1005, "")]
    assert srv.data_to_send() == b"\x88\x00"


def test_messages_after_sending_close_are_still_delivered(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    srv.send_close()
    assert srv.receive_data(cli.send_text("late")) == [TextMessage("late")]
    assert srv.receive_data(cli.send_ping(b"x")) == [Ping(b"x")]
    assert srv.data_to_send() == b""  # no pong after our close frame


def test_sending_after_close_is_a_runtime_error(raw_frame: RawFrame) -> None:
    srv = server()
    srv.send_close()
    with pytest.raises(RuntimeError):
        srv.send_text("x")
    with pytest.raises(RuntimeError):
        srv.send_ping()
    with pytest.raises(RuntimeError):
        srv.send_close()
    other = server()
    other.receive_data(raw_frame(Opcode.CLOSE, b"\x03\xe8"))
    with pytest.raises(RuntimeError):
        other.send_binary(b"x")


def test_eof_before_close_fails_with_1006_and_sends_nothing(raw_frame: RawFrame) -> None:
    srv = server()
    srv.receive_data(raw_frame(Opcode.TEXT, b"partial", fin=False))
    assert srv.receive_eof() == [ConnectionFailed(1006, "connection closed without a close frame")]
    assert srv.data_to_send() == b""
    assert srv.receive_eof() == []


def test_eof_after_close_handshake_is_quiet(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    cli.receive_data(srv.send_close())
    assert cli.receive_eof() == []


def test_send_text_requires_str() -> None:
    with pytest.raises(TypeError):
        server().send_text(b"bytes")  # type: ignore[arg-type]


# --- W16: application-provided close reasons ---------------------------------------------


def test_w16_long_close_reason_is_truncated_to_123_bytes(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair()
    close = srv.send_close(1000, "é" * 100)  # 200 bytes of UTF-8
    assert len(close) == 2 + 2 + 122  # 61 two-byte characters fit in 123 bytes
    assert cli.receive_data(close) == [CloseReceived(1000, "é" * 61)]


def test_w16_bytes_reason_is_rejected_and_state_unchanged() -> None:
    srv = server()
    with pytest.raises(TypeError):
        srv.send_close(1000, b"raw")  # type: ignore[arg-type]
    assert srv.state is ConnectionState.OPEN


# --- W01-W04, W14: framing violations close with 1002 -------------------------------------


@pytest.mark.parametrize("rsv", [1, 2, 4, 3, 7])
def test_w01_w02_reserved_bits_close_1002(raw_frame: RawFrame, rsv: int) -> None:
    assert_fails(server(), raw_frame(Opcode.TEXT, b"hi", rsv=rsv), 1002)


def test_w01_reserved_bits_after_valid_traffic_close_1002(
    raw_frame: RawFrame, ws_pair: PairFactory
) -> None:
    srv, cli = ws_pair()
    assert srv.receive_data(cli.send_text("0{}")) == [TextMessage("0{}")]
    assert_fails(srv, raw_frame(Opcode.TEXT, b"40", rsv=2), 1002)


def test_w03_unmasked_client_frame_closes_1002(raw_frame: RawFrame) -> None:
    assert_fails(server(), raw_frame(Opcode.TEXT, b"hi", mask=None), 1002)


def test_client_receiving_a_masked_frame_closes_1002(raw_frame: RawFrame) -> None:
    cli = WebSocketConnection(Role.CLIENT)
    events = cli.receive_data(raw_frame(Opcode.TEXT, b"hi"))
    assert [(type(e), getattr(e, "code", None)) for e in events] == [(ConnectionFailed, 1002)]
    assert cli.data_to_send()[1] & 0x80  # the client's own close frame is masked


@pytest.mark.parametrize(
    "specs",
    [
        [(Opcode.PING, b"x" * 126, {})],
        [(Opcode.PING, b"x", {"fin": False})],
        [(Opcode.CLOSE, b"\x03\xe8", {"fin": False})],
        [(0x3, b"x", {})],
        [(0xB, b"x", {})],
        [(Opcode.CONTINUATION, b"x", {})],
        [(Opcode.TEXT, b"a", {"fin": False}), (Opcode.TEXT, b"b", {})],
        [(Opcode.BINARY, b"a", {"fin": False}), (Opcode.PING, b"x", {"rsv": 4})],
    ],
    ids=[
        "ping-126",
        "fragmented-ping",
        "fragmented-close",
        "opcode-3",
        "opcode-B",
        "orphan-continuation",
        "text-inside-message",
        "rsv1-on-ping",
    ],
)
def test_w04_control_and_opcode_violations_close_1002(
    raw_frame: RawFrame, specs: list[tuple[int, bytes, dict[str, Any]]]
) -> None:
    frames = b"".join(raw_frame(opcode, payload, **kw) for opcode, payload, kw in specs)
    assert_fails(server(), frames, 1002)


@pytest.mark.parametrize("code", [1005, 1006, 999, 5000, 1004, 1016, 2999, 0])
def test_w14_close_with_forbidden_code_closes_1002(raw_frame: RawFrame, code: int) -> None:
    assert_fails(server(), raw_frame(Opcode.CLOSE, code.to_bytes(2, "big")), 1002)


def test_w14_close_with_one_byte_payload_closes_1002(raw_frame: RawFrame) -> None:
    assert_fails(server(), raw_frame(Opcode.CLOSE, b"\x03"), 1002)


def test_close_with_invalid_utf8_reason_closes_1007(raw_frame: RawFrame) -> None:
    assert_fails(server(), raw_frame(Opcode.CLOSE, b"\x03\xe8\xff"), 1007)


def test_violation_after_sending_close_sends_no_second_close(raw_frame: RawFrame) -> None:
    srv = server()
    srv.send_close()
    events = srv.receive_data(raw_frame(Opcode.TEXT, b"x", rsv=2))
    assert [type(e) for e in events] == [ConnectionFailed]
    assert srv.data_to_send() == b""


# --- W06: size limits -------------------------------------------------------------------


def test_w06_message_of_1_000_001_bytes_closes_1009_before_buffering(raw_frame: RawFrame) -> None:
    srv = server()
    header = raw_frame(Opcode.TEXT, b"", length=1_000_001)  # announces the size, no payload
    assert_fails(srv, header, 1009)


def test_w06_message_of_exactly_the_limit_is_accepted(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, max_message_size=100_000)
    assert srv.receive_data(raw_frame(Opcode.BINARY, b"z" * 100_000)) == [
        BinaryMessage(b"z" * 100_000)
    ]


def test_w06_limit_counts_all_fragments_of_a_message(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, max_message_size=10)
    ok = raw_frame(Opcode.TEXT, b"12345", fin=False) + raw_frame(Opcode.CONTINUATION, b"12345")
    assert srv.receive_data(ok) == [TextMessage("1234512345")]
    too_big = raw_frame(Opcode.TEXT, b"123456", fin=False) + raw_frame(
        Opcode.CONTINUATION, b"12345"
    )
    assert_fails(srv, too_big, 1009)


def test_w06_control_frames_do_not_count_towards_the_message(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, max_message_size=4)
    data = raw_frame(Opcode.TEXT, b"ab", fin=False) + raw_frame(Opcode.PING, b"x" * 100)
    data += raw_frame(Opcode.CONTINUATION, b"cd")
    assert srv.receive_data(data) == [Ping(b"x" * 100), TextMessage("abcd")]


def test_too_many_fragments_close_1009(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, max_fragments=3)
    data = raw_frame(Opcode.BINARY, b"a", fin=False) + b"".join(
        raw_frame(Opcode.CONTINUATION, b"a", fin=False) for _ in range(3)
    )
    assert_fails(srv, data, 1009)


def test_no_message_limit_when_none(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, max_message_size=None)
    assert srv.receive_data(raw_frame(Opcode.BINARY, b"q" * 2_000_000)) == [
        BinaryMessage(b"q" * 2_000_000)
    ]


def test_w06_other_connections_are_unaffected(raw_frame: RawFrame) -> None:
    bad, good = server(), server()
    bad.receive_data(raw_frame(Opcode.TEXT, b"", length=1_000_001))
    assert good.receive_data(raw_frame(Opcode.TEXT, b"fine")) == [TextMessage("fine")]


# --- W09: UTF-8 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        b"\xc0\xaf",  # overlong "/"
        b"\xe0\x80\xaf",  # overlong, three bytes
        b"\xf0\x80\x80\xaf",  # overlong, four bytes
        b"\xed\xa0\x80",  # UTF-16 surrogate
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b"\xff",
        b"abc\xe2\x82",  # truncated at the end of the message
    ],
)
def test_w09_invalid_utf8_text_closes_1007(raw_frame: RawFrame, payload: bytes) -> None:
    assert_fails(server(), raw_frame(Opcode.TEXT, payload), 1007)


def test_w09_code_point_split_across_fragments_is_accepted(raw_frame: RawFrame) -> None:
    euro = "€".encode()  # e2 82 ac
    data = (
        raw_frame(Opcode.TEXT, b"a" + euro[:1], fin=False)
        + raw_frame(Opcode.CONTINUATION, euro[1:2], fin=False)
        + raw_frame(Opcode.CONTINUATION, euro[2:] + b"b")
    )
    assert server().receive_data(data) == [TextMessage("a€b")]


def test_w09_invalid_byte_in_a_middle_fragment_fails_at_that_fragment(raw_frame: RawFrame) -> None:
    srv = server()
    assert srv.receive_data(raw_frame(Opcode.TEXT, b"ok", fin=False)) == []
    assert_fails(srv, raw_frame(Opcode.CONTINUATION, b"\xc0\xaf", fin=False), 1007)


def test_w09_overlong_split_across_fragments_closes_1007(raw_frame: RawFrame) -> None:
    data = raw_frame(Opcode.TEXT, b"\xc0", fin=False) + raw_frame(Opcode.CONTINUATION, b"\xaf")
    assert_fails(server(), data, 1007)


def test_binary_messages_are_not_utf8_checked(raw_frame: RawFrame) -> None:
    assert server().receive_data(raw_frame(Opcode.BINARY, b"\xc0\xaf")) == [
        BinaryMessage(b"\xc0\xaf")
    ]


# --- speed guard ------------------------------------------------------------------------


def test_receiving_a_large_masked_message_is_fast(raw_frame: RawFrame) -> None:
    srv = server()
    data = raw_frame(Opcode.BINARY, b"m" * 900_000, mask=b"\x37\xfa\x21\x3d")
    start = time.perf_counter()
    assert srv.receive_data(data) == [BinaryMessage(b"m" * 900_000)]
    assert time.perf_counter() - start < 0.5
