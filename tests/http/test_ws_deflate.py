from __future__ import annotations

import random
import time
import tracemalloc
import zlib
from collections.abc import Callable

import pytest

from siox.errors import HandshakeError, InvalidPacket, PayloadTooLarge
from siox.http.deflate import (
    DeflateOptions,
    DeflateParams,
    MessageDecompressor,
    accept_offer,
    accept_response,
    build_offer,
    parse_extension_header,
)
from siox.http.frames import Opcode, frame_text
from siox.http.handshake import accept_upgrade
from siox.http.websocket import (
    BinaryMessage,
    ConnectionFailed,
    Role,
    TextMessage,
    WebSocketConnection,
)

RawFrame = Callable[..., bytes]
PairFactory = Callable[..., tuple[WebSocketConnection, WebSocketConnection]]
EAGER = DeflateParams(threshold=0)


def raw_deflate(data: bytes, *, finish: bool = False) -> bytes:
    """Compress as a peer would (RFC 7692 section 7.2.1), independently of siox."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if finish else zlib.Z_SYNC_FLUSH
    )
    return out if finish else out[:-4]


# --- server-side negotiation ----------------------------------------------------------


def offer(header: str, options: DeflateOptions | None = None) -> tuple[DeflateParams, str] | None:
    return accept_offer([header], options or DeflateOptions())


def test_plain_offer_is_accepted_with_defaults() -> None:
    accepted = offer("permessage-deflate")
    assert accepted is not None
    params, response = accepted
    assert response == "permessage-deflate"
    assert (params.server_max_window_bits, params.client_max_window_bits) == (15, 15)
    assert not params.server_no_context_takeover
    assert not params.client_no_context_takeover


def test_browser_offer_with_bare_client_max_window_bits_is_accepted() -> None:
    accepted = offer("permessage-deflate; client_max_window_bits")
    assert accepted is not None
    assert accepted[1] == "permessage-deflate"


def test_offer_parameters_are_honoured_in_the_response() -> None:
    accepted = offer(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=10; client_max_window_bits=12"
    )
    assert accepted is not None
    params, response = accepted
    assert response == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=10"
    )
    assert params.server_no_context_takeover
    assert params.client_no_context_takeover
    assert params.server_max_window_bits == 10
    assert params.client_max_window_bits == 12  # the client promised at most 12


def test_server_preferences_limit_the_agreement() -> None:
    options = DeflateOptions(
        server_no_context_takeover=True, server_max_window_bits=11, client_max_window_bits=9
    )
    accepted = offer("permessage-deflate; client_max_window_bits", options)
    assert accepted is not None
    params, response = accepted
    assert response == (
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=11; "
        "client_max_window_bits=9"
    )
    assert (params.server_max_window_bits, params.client_max_window_bits) == (11, 9)


def test_quoted_parameter_values_are_accepted() -> None:
    accepted = offer('permessage-deflate; server_max_window_bits="10"')
    assert accepted is not None
    assert accepted[0].server_max_window_bits == 10


@pytest.mark.parametrize(
    "header",
    [
        # W11, verbatim from hostile-inputs.md
        "constructor; hasOwnProperty=1, __proto__; permessage-deflate; client_max_window_bits=999",
        "permessage-deflate; client_max_window_bits=999",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=09",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=8",  # zlib cannot compress with 8 bits
        "permessage-deflate; server_max_window_bits=abc",
        "permessage-deflate; hasOwnProperty=1",
        "permessage-deflate; __proto__",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; =",
        "permessage-deflate; a b",
        "x-webkit-deflate-frame",
        "",
        ",,,",
    ],
)
def test_w11_invalid_or_unknown_offers_are_declined_without_error(header: str) -> None:
    assert offer(header) is None


def test_w11_a_declined_offer_falls_back_to_the_next_one() -> None:
    accepted = offer(
        "permessage-deflate; client_max_window_bits=999, "
        "permessage-deflate; server_max_window_bits=12"
    )
    assert accepted is not None
    assert accepted[1] == "permessage-deflate; server_max_window_bits=12"


def test_w11_hostile_extension_header_gives_101_without_compression() -> None:
    headers = [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        (b"sec-websocket-version", b"13"),
        (
            b"sec-websocket-extensions",
            b"constructor; hasOwnProperty=1, __proto__; permessage-deflate; "
            b"client_max_window_bits=999",
        ),
    ]
    result = accept_upgrade("GET", headers, deflate=DeflateOptions())
    assert result.deflate is None
    assert b"Sec-WebSocket-Extensions" not in result.response


def test_extension_header_parsing_is_linear() -> None:
    header = "permessage-deflate;" + " " * 100_000 + ";x" * 10_000
    start = time.perf_counter()
    assert offer(header) is None
    assert time.perf_counter() - start < 0.1


def test_parse_extension_header_splits_names_and_params() -> None:
    assert parse_extension_header(["A; b=1; c", "d"]) == [
        ("a", [("b", "1"), ("c", None)]),
        ("d", []),
    ]
    assert parse_extension_header(['a; b="x y"']) is None


def test_deflate_options_validate_window_bits() -> None:
    with pytest.raises(ValueError, match="between 9 and 15"):
        DeflateOptions(server_max_window_bits=8)
    with pytest.raises(ValueError, match="compression settings"):
        DeflateOptions(level=10)


# --- client-side negotiation ----------------------------------------------------------


def test_client_offer_strings() -> None:
    assert build_offer(DeflateOptions()) == "permessage-deflate; client_max_window_bits"
    assert build_offer(
        DeflateOptions(
            server_no_context_takeover=True,
            client_no_context_takeover=True,
            server_max_window_bits=10,
            client_max_window_bits=12,
        )
    ) == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=10; client_max_window_bits=12"
    )


def test_client_accepts_a_matching_response() -> None:
    params = accept_response(
        ["permessage-deflate; server_no_context_takeover; client_max_window_bits=10"],
        DeflateOptions(),
    )
    assert params == DeflateParams(
        server_no_context_takeover=True, client_max_window_bits=10, server_max_window_bits=15
    )


def test_client_without_extension_in_response_runs_uncompressed() -> None:
    assert accept_response([], DeflateOptions()) is None
    assert accept_response([""], None) is None


@pytest.mark.parametrize(
    ("header", "options"),
    [
        ("permessage-deflate", None),  # nothing was offered
        ("x-custom", DeflateOptions()),
        ("permessage-deflate, permessage-deflate", DeflateOptions()),
        ("permessage-deflate; unknown", DeflateOptions()),
        ("permessage-deflate; client_max_window_bits", DeflateOptions()),  # needs a value
        ("permessage-deflate; client_max_window_bits=8", DeflateOptions()),
        (
            "permessage-deflate; client_max_window_bits=12",
            DeflateOptions(client_max_window_bits=10),
        ),
        (
            "permessage-deflate; server_max_window_bits=12",
            DeflateOptions(server_max_window_bits=10),
        ),
        ("permessage-deflate", DeflateOptions(server_no_context_takeover=True)),
        ("permessage-deflate; =", DeflateOptions()),
    ],
)
def test_client_rejects_responses_that_do_not_match_the_offer(
    header: str, options: DeflateOptions | None
) -> None:
    with pytest.raises(HandshakeError):
        accept_response([header], options)


# --- compression on the wire ----------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        EAGER,
        DeflateParams(
            threshold=0, server_no_context_takeover=True, client_no_context_takeover=True
        ),
        DeflateParams(threshold=0, server_max_window_bits=9, client_max_window_bits=9),
    ],
    ids=["takeover", "no-takeover", "small-window"],
)
def test_compressed_messages_round_trip(params: DeflateParams, ws_pair: PairFactory) -> None:
    srv, cli = ws_pair(params)
    for text in ["a", "hello " * 1000, "ünïcödé ✓ " * 300, ""]:
        wire = cli.send_text(text)
        assert wire[0] & 0x40  # RSV1: compressed
        assert srv.receive_data(wire) == [TextMessage(text)]
        assert cli.receive_data(srv.send_text(text)) == [TextMessage(text)]
    blob = bytes(range(256)) * 500
    assert srv.receive_data(cli.send_binary(blob, fragment_size=1000)) == [BinaryMessage(blob)]


def test_context_takeover_shrinks_a_repeated_message(ws_pair: PairFactory) -> None:
    srv, _ = ws_pair(EAGER)
    message = "the same sentence, again and again. " * 20
    first, second = srv.send_text(message), srv.send_text(message)
    assert len(second) < len(first) // 2


def test_messages_below_the_threshold_are_sent_uncompressed(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair(DeflateParams(threshold=100))
    assert not srv.send_text("short")[0] & 0x40
    wire = srv.send_text("l" * 100)
    assert wire[0] & 0x40
    assert cli.receive_data(wire) == [TextMessage("l" * 100)]


def test_uncompressed_broadcast_frame_is_valid_on_a_deflate_connection(
    ws_pair: PairFactory,
) -> None:
    _, cli = ws_pair(EAGER)
    assert cli.receive_data(frame_text(b"shared")) == [TextMessage("shared")]


def test_compressed_fragments_from_a_peer_are_reassembled(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, deflate=EAGER)
    data = raw_deflate("ü€😀".encode() * 50)
    frames = (
        raw_frame(Opcode.TEXT, data[:7], fin=False, rsv=4)
        + raw_frame(Opcode.CONTINUATION, data[7:20], fin=False)
        + raw_frame(Opcode.CONTINUATION, data[20:])
    )
    assert srv.receive_data(frames) == [TextMessage("ü€😀" * 50)]


def test_peer_stream_ending_with_a_final_block_is_accepted(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, deflate=EAGER)
    first = raw_frame(Opcode.TEXT, raw_deflate(b"one", finish=True), rsv=4)
    second = raw_frame(Opcode.TEXT, raw_deflate(b"two"), rsv=4)
    third = raw_frame(Opcode.TEXT, raw_deflate(b"one", finish=True) + raw_deflate(b"+"), rsv=4)
    assert srv.receive_data(first + second + third) == [
        TextMessage("one"),
        TextMessage("two"),
        TextMessage("one+"),
    ]


def test_invalid_compressed_data_closes_1007(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, deflate=EAGER)
    events = srv.receive_data(raw_frame(Opcode.BINARY, b"\xff\xff\xff\xff", rsv=4))
    assert [(type(e), getattr(e, "code", None)) for e in events] == [(ConnectionFailed, 1007)]


def test_w02_rsv1_without_negotiated_deflate_closes_1002(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER)
    events = srv.receive_data(raw_frame(Opcode.TEXT, raw_deflate(b"hi"), rsv=4))
    assert [(type(e), getattr(e, "code", None)) for e in events] == [(ConnectionFailed, 1002)]


def test_rsv1_on_a_continuation_closes_1002(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, deflate=EAGER)
    data = raw_deflate(b"hello")
    frames = raw_frame(Opcode.TEXT, data[:2], fin=False, rsv=4) + raw_frame(
        Opcode.CONTINUATION, data[2:], rsv=4
    )
    events = srv.receive_data(frames)
    assert [(type(e), getattr(e, "code", None)) for e in events] == [(ConnectionFailed, 1002)]


def test_inflated_size_exactly_at_the_limit_is_accepted(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, deflate=EAGER, max_message_size=50_000)
    frame = raw_frame(Opcode.BINARY, raw_deflate(b"\x00" * 50_000), rsv=4)
    assert srv.receive_data(frame) == [BinaryMessage(b"\x00" * 50_000)]


def test_zip_bomb_closes_1009_without_inflating_it(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, deflate=EAGER)  # 1,000,000-byte limit
    frame = raw_frame(Opcode.BINARY, raw_deflate(b"\x00" * 30_000_000), rsv=4)  # ~30 KB
    tracemalloc.start()
    try:
        events = srv.receive_data(frame)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(type(e), getattr(e, "code", None)) for e in events] == [(ConnectionFailed, 1009)]
    assert peak < 3_000_000  # at most the limit plus one byte was ever inflated


def test_zip_bomb_split_over_fragments_closes_1009(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, deflate=EAGER, max_message_size=1000)
    bomb = raw_deflate(b"a" * 5000)
    frames = raw_frame(Opcode.TEXT, bomb[:5], fin=False, rsv=4) + raw_frame(
        Opcode.CONTINUATION, bomb[5:]
    )
    events = srv.receive_data(frames)
    assert [(type(e), getattr(e, "code", None)) for e in events] == [(ConnectionFailed, 1009)]


def test_incompressible_message_near_the_limit_is_accepted(ws_pair: PairFactory) -> None:
    srv, cli = ws_pair(EAGER, max_message_size=300_000)
    noise = random.Random(1).randbytes(300_000)
    wire = cli.send_binary(noise)
    assert len(wire) > 300_000  # deflate grew it
    assert srv.receive_data(wire) == [BinaryMessage(noise)]


def test_oversized_compressed_frame_is_refused_before_buffering(raw_frame: RawFrame) -> None:
    srv = WebSocketConnection(Role.SERVER, deflate=EAGER, max_message_size=10_000)
    events = srv.receive_data(raw_frame(Opcode.BINARY, b"", rsv=4, length=100_000))
    assert [(type(e), getattr(e, "code", None)) for e in events] == [(ConnectionFailed, 1009)]


def test_decompressor_limit_is_strict() -> None:
    inflater = MessageDecompressor(no_context_takeover=False)
    with pytest.raises(PayloadTooLarge):
        inflater.feed(raw_deflate(b"x" * 101), 100, final=True)
    fresh = MessageDecompressor(no_context_takeover=True)
    assert fresh.feed(raw_deflate(b"x" * 100), 100, final=True) == b"x" * 100
    with pytest.raises(InvalidPacket):
        fresh.feed(b"\xff\xff", 100, final=True)
