"""Engine.IO v4 polling payloads, the size limit, and the linear-time guarantees."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings, strategies as st

import siox.fastpaths
from siox.engineio import (
    DEFAULT_MAX_PAYLOAD,
    SEPARATOR,
    EnginePacket,
    EnginePacketType,
    decode_payload,
    encode_payload,
)
from siox.errors import InvalidPacket, PayloadTooLarge, ProtocolError
from timing import best_time

MESSAGE = EnginePacketType.MESSAGE
MB = 1_000_000

v4_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters=SEPARATOR), max_size=40)
v4_packets = st.builds(EnginePacket, st.sampled_from(EnginePacketType), v4_text) | st.builds(
    EnginePacket, st.just(MESSAGE), st.binary(max_size=40)
)


# --- encoding --------------------------------------------------------------------------------


def test_payload_joins_records_with_the_record_separator() -> None:
    packets = [EnginePacket(MESSAGE, "hello"), EnginePacket(MESSAGE, b"\x01\x02\x03\x04")]
    assert encode_payload(packets) == "4hello\x1ebAQIDBA=="


def test_single_packet_payload_has_no_separator() -> None:
    assert encode_payload([EnginePacket(EnginePacketType.NOOP)]) == "6"
    assert encode_payload([EnginePacket(MESSAGE, b"")]) == "b"


def test_v4_payload_is_text_whatever_b64_says() -> None:
    packets = [EnginePacket(MESSAGE, b"\x01")]
    assert encode_payload(packets, b64=False) == encode_payload(packets, b64=True) == "bAQ=="


def test_empty_v4_payload_is_refused() -> None:
    # npm's encodePayload never calls back for [], and "" does not decode: send a NOOP instead.
    with pytest.raises(ValueError, match="at least one packet"):
        encode_payload([])


def test_text_containing_the_separator_cannot_be_sent_over_v4_polling() -> None:
    # npm writes it as is and the peer then splits it: "x\x1e1" would inject a CLOSE packet.
    with pytest.raises(ValueError, match="separator"):
        encode_payload([EnginePacket(MESSAGE, "x\x1e1")])


def test_encoder_refuses_binary_on_a_control_packet() -> None:
    with pytest.raises(ValueError, match="only a MESSAGE"):
        encode_payload([EnginePacket(EnginePacketType.PONG, b"x")])


# --- decoding --------------------------------------------------------------------------------


def test_payload_decodes_text_and_base64_records() -> None:
    assert decode_payload("4hello\x1ebAQIDBA==\x1e2\x1e6") == [
        EnginePacket(MESSAGE, "hello"),
        EnginePacket(MESSAGE, b"\x01\x02\x03\x04"),
        EnginePacket(EnginePacketType.PING),
        EnginePacket(EnginePacketType.NOOP),
    ]


def test_payload_body_may_be_utf8_bytes() -> None:
    assert decode_payload("4€\x1e1".encode()) == [
        EnginePacket(MESSAGE, "€"),
        EnginePacket(EnginePacketType.CLOSE),
    ]
    assert decode_payload(bytearray(b"4a")) == [EnginePacket(MESSAGE, "a")]  # type: ignore[arg-type]  # bytes-like on purpose: accepted though not in the signature
    assert decode_payload(memoryview(b"4a")) == [EnginePacket(MESSAGE, "a")]  # type: ignore[arg-type]  # bytes-like on purpose: accepted though not in the signature


@pytest.mark.parametrize("body", [b"4\xff", b"4\xc0\xaf", b"4\xed\xa0\x80", b"4\xe2\x82"])
def test_payload_bytes_must_be_valid_utf8(body: bytes) -> None:
    with pytest.raises(InvalidPacket, match="UTF-8"):
        decode_payload(body)


@pytest.mark.parametrize(
    "body", ["", "\x1e", "4a\x1e", "\x1e4a", "4a\x1e\x1e4b", "7", "4a\x1ex", "4a\x1e9"]
)
def test_empty_or_unknown_records_refuse_the_payload(body: str) -> None:
    with pytest.raises(InvalidPacket) as info:
        decode_payload(body)
    assert info.value.http_status == 400


def test_a_bad_record_refuses_the_whole_payload_and_is_named() -> None:
    with pytest.raises(InvalidPacket, match="record 2"):
        decode_payload("4a\x1e4b\x1e7\x1e4c")


@pytest.mark.parametrize(
    "body",
    ["bAAA!!!", "b====", "b" + "!" * (MB - 1), "4a\x1ebAQ", "bAQ==\x1eb-_8=", "b AQ=="],
)
def test_bad_base64_refuses_the_payload(body: str) -> None:  # hostile-inputs E03
    with pytest.raises(InvalidPacket, match="base64"):
        decode_payload(body)


def test_a_binary_v4_payload_is_invalid() -> None:
    with pytest.raises(InvalidPacket, match="never binary"):
        decode_payload(b"\x00\x01\xff4", binary=True)


def test_decoder_rejects_bodies_that_are_not_str_or_bytes() -> None:
    with pytest.raises(TypeError):
        decode_payload(["4a"])  # type: ignore[arg-type]


# --- size limit ------------------------------------------------------------------------------


def test_default_limit_is_one_megabyte() -> None:
    assert DEFAULT_MAX_PAYLOAD == MB
    decode_payload("4" + "a" * (MB - 1))
    with pytest.raises(PayloadTooLarge):
        decode_payload("4" + "a" * MB)


@pytest.mark.parametrize("eio", [3, 4])
def test_limit_counts_utf8_bytes_not_characters(eio: int) -> None:
    text = "4" + "€" * 3  # 10 bytes, 4 characters
    body = text if eio == 4 else f"4:{text}"
    limit = len(body.encode())
    decode_payload(body, eio=eio, max_payload=limit)
    decode_payload(body.encode(), eio=eio, max_payload=limit)
    with pytest.raises(PayloadTooLarge) as info:
        decode_payload(body, eio=eio, max_payload=limit - 1)
    assert info.value.http_status == 413
    assert info.value.ws_close_code == 1009
    with pytest.raises(PayloadTooLarge):
        decode_payload(body.encode(), eio=eio, max_payload=limit - 1)


def test_limit_applies_before_any_parsing() -> None:
    with pytest.raises(PayloadTooLarge):
        decode_payload("x" * 11, max_payload=10)
    with pytest.raises(PayloadTooLarge):
        decode_payload(b"\x09" * 11, eio=3, binary=True, max_payload=10)


def test_negative_limit_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="max_payload"):
        decode_payload("4a", max_payload=-1)


# --- time ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("4" + "a" * (MB - 1), id="one-text-record"),
        pytest.param("4" + "é" * (MB // 2 - 1), id="one-non-ascii-record"),
        pytest.param("b" + base64.b64encode(b"x" * (MB * 3 // 4 - 3)).decode(), id="one-base64"),
        pytest.param("b" + "!" * (MB - 1), id="base64-garbage"),
        pytest.param(SEPARATOR.join(["4" + "a" * 99] * (MB // 101)), id="100-byte-records"),
        pytest.param(SEPARATOR.join(["4" + "😀" * 249] * (MB // 1000)), id="1kb-astral-records"),
        pytest.param(
            SEPARATOR.join(["b" + base64.b64encode(b"x" * 750).decode()] * (MB // 1002)),
            id="1kb-base64-records",
        ),
    ],
)
def test_one_megabyte_payload_decodes_in_under_50ms(body: str) -> None:
    assert best_time(lambda: decode_payload(body), repeat=5) < 0.05


def test_tiny_record_flood_decodes_in_linear_time() -> None:
    # One EnginePacket object per 2-3 bytes costs about 1-2 us on CPython: linear, but not < 50 ms/MB.
    # Four times the input must take about four times as long (quadratic would be sixteen).
    small = SEPARATOR.join(["4a"] * (MB // 48))
    large = SEPARATOR.join(["4a"] * (MB // 12))
    small_time = best_time(lambda: decode_payload(small))
    large_time = best_time(lambda: decode_payload(large))
    assert large_time < 8 * small_time + 0.02
    megabyte = SEPARATOR.join(["4a"] * (MB // 3))
    assert best_time(lambda: decode_payload(megabyte), repeat=1) < 3.0


def test_encoding_a_megabyte_is_fast() -> None:
    packets = [EnginePacket(MESSAGE, "😀" * 250)] * 1000 + [
        EnginePacket(MESSAGE, b"x" * 1000)
    ] * 1000
    assert best_time(lambda: encode_payload(packets)) < 0.05


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=150)
@given(packets=st.lists(v4_packets, min_size=1, max_size=8))
def test_payload_round_trip(packets: list[EnginePacket]) -> None:
    body = encode_payload(packets)
    assert isinstance(body, str)
    assert decode_payload(body) == packets
    assert decode_payload(body.encode()) == packets


@settings(max_examples=200)
@given(body=st.text() | st.binary(), binary=st.booleans())
def test_decoding_arbitrary_bodies_gives_packets_or_a_protocol_error(
    body: str | bytes, binary: bool
) -> None:
    try:
        packets = decode_payload(body, binary=binary)
    except ProtocolError:
        return
    assert packets
    assert all(isinstance(p, EnginePacket) for p in packets)


@settings(max_examples=200)
@given(records=st.lists(st.text(alphabet="0123456789bx4AQID=+/ é😀\ud800", max_size=8), max_size=5))
def test_decoding_near_valid_bodies_gives_packets_or_a_protocol_error(records: list[str]) -> None:
    try:
        packets = decode_payload(SEPARATOR.join(records))
    except ProtocolError:
        return
    assert len(packets) == len(records)


_any_packets = st.lists(
    st.builds(
        EnginePacket,
        st.sampled_from(list(EnginePacketType)),
        st.one_of(st.text(max_size=5), st.sampled_from(["a\x1eb", "\x1e"]), st.binary(max_size=3)),
    ),
    max_size=5,
)


def _outcome(packets: list[EnginePacket]) -> object:
    try:
        return encode_payload(packets, eio=4)
    except ValueError as exc:
        return (ValueError, str(exc))


@given(_any_packets)
def test_v4_payload_is_the_same_with_and_without_fast_paths(packets: list[EnginePacket]) -> None:
    saved = siox.fastpaths.ENABLED
    try:
        siox.fastpaths.ENABLED = True
        fast = _outcome(packets)
        siox.fastpaths.ENABLED = False
        general = _outcome(packets)
    finally:
        siox.fastpaths.ENABLED = saved
    assert fast == general
