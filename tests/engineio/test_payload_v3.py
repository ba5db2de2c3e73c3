"""Engine.IO v3 polling payloads: UTF-16 length-prefixed text and the binary payload format."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from siox.engineio import (
    EMPTY_PAYLOAD,
    EnginePacket,
    EnginePacketType,
    decode_payload,
    encode_payload,
    utf16_length,
)
from siox.errors import InvalidPacket, PayloadTooLarge, ProtocolError
from timing import best_time

MESSAGE = EnginePacketType.MESSAGE
MB = 1_000_000

# Text with plenty of astral characters (2 UTF-16 units each) and multi-byte BMP characters.
v3_text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from("a€😀𝄞\U0010ffff\x00:0123456789"),
    max_size=40,
)
text_packets = st.builds(EnginePacket, st.sampled_from(EnginePacketType), v3_text)
binary_packets = st.builds(EnginePacket, st.just(MESSAGE), st.binary(max_size=40))
v3_packets = text_packets | binary_packets


def decode3(body: str | bytes, **options: object) -> list[EnginePacket]:
    return decode_payload(body, eio=3, **options)  # type: ignore[arg-type]


# --- UTF-16 lengths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [("", 0), ("abc", 3), ("€", 1), ("😀", 2), ("a😀b€", 5), ("\U0010ffff" * 3, 6)],
)
def test_utf16_length_counts_code_units_like_javascript(text: str, units: int) -> None:
    assert utf16_length(text) == units


def test_utf16_length_refuses_lone_surrogates() -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        utf16_length("a\ud800")


# --- text payload encoding -------------------------------------------------------------------


def test_empty_packet_list_is_0_colon() -> None:
    assert EMPTY_PAYLOAD == "0:"
    assert encode_payload([], eio=3) == "0:"
    assert encode_payload([], eio=3, b64=True) == "0:"


@pytest.mark.parametrize(
    ("packets", "body"),
    [
        ([EnginePacket(MESSAGE, "hello")], "6:4hello"),
        ([EnginePacket(MESSAGE, "€")], "2:4€"),
        ([EnginePacket(MESSAGE, "😀")], "3:4😀"),
        ([EnginePacket(EnginePacketType.PING), EnginePacket(MESSAGE, "a😀€")], "1:25:4a😀€"),
        ([EnginePacket(MESSAGE, "x" * 9)], "10:4xxxxxxxxx"),
    ],
)
def test_text_payload_is_length_prefixed_in_utf16_units(
    packets: list[EnginePacket], body: str
) -> None:
    assert encode_payload(packets, eio=3) == body
    assert decode3(body) == packets


def test_binary_with_b64_is_a_b4_record() -> None:
    packets = [EnginePacket(MESSAGE, b"\x01\x02\x03\x04"), EnginePacket(MESSAGE, "€")]
    assert encode_payload(packets, eio=3, b64=True) == "10:b4AQIDBA==2:4€"


def test_text_payload_refuses_lone_surrogates() -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        encode_payload([EnginePacket(MESSAGE, "a\udc00")], eio=3)


def test_v3_encoder_refuses_binary_on_a_control_packet() -> None:
    for b64 in (False, True):
        with pytest.raises(ValueError, match="only a MESSAGE"):
            encode_payload([EnginePacket(EnginePacketType.PING, b"x")], eio=3, b64=b64)


# --- binary payload encoding -----------------------------------------------------------------


def test_binary_payload_matches_the_protocol_example() -> None:
    packets = [EnginePacket(MESSAGE, "€"), EnginePacket(MESSAGE, b"\x01\x02\x03\x04")]
    body = bytes.fromhex("00 04 ff 34 e2 82 ac 01 05 ff 04 01 02 03 04")
    assert encode_payload(packets, eio=3) == body
    assert decode3(body, binary=True) == packets


def test_binary_payload_lengths_are_decimal_digit_bytes() -> None:
    body = encode_payload([EnginePacket(MESSAGE, b"x" * 122), EnginePacket(MESSAGE, b"")], eio=3)
    assert body == b"\x01\x01\x02\x03\xff\x04" + b"x" * 122 + b"\x01\x01\xff\x04"


def test_binary_payload_is_used_only_when_a_packet_is_binary() -> None:
    assert encode_payload([EnginePacket(MESSAGE, "a")], eio=3) == "2:4a"


def test_binary_payload_refuses_lone_surrogates() -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        encode_payload([EnginePacket(MESSAGE, "\ud800"), EnginePacket(MESSAGE, b"")], eio=3)


# --- text payload decoding -------------------------------------------------------------------


def test_zero_length_records_are_no_packets() -> None:
    # npm's encoder sends "0:" for an empty list and its decoder skips empty records. The
    # hostile-inputs row E04 lists "0:" as a parser error; the reference behaviour wins.
    assert decode3("0:") == []
    assert decode3("0:1:60:") == [EnginePacket(EnginePacketType.NOOP)]


def test_leading_zeros_in_lengths_are_accepted_like_npm() -> None:
    assert decode3("01:6") == [EnginePacket(EnginePacketType.NOOP)]


@pytest.mark.parametrize(
    "body",
    [
        "99999:4a",  # E04: longer than the payload
        "3:4a",  # E04
        "-1:4",  # E04
        ":4",  # E04
        "1a:4",  # E04
        "2:4\ud800",  # E04: lone surrogate
        "3:4\udc00x",
        "2:\ud83d\ude00",  # a surrogate pair as two code points is still two lone surrogates
        "",  # no records at all (npm: parser error too)
        "1:6x",  # trailing garbage
        "1:61",  # trailing length without a colon
        "1:7",  # bad packet type
        "1:b",  # base64 record without its type digit
        "3:b2A",  # base64 record that is not a message
        "4:b4A!",  # bad base64
        " 1:6",  # npm's Number() accepts these
        "1e0:6",
        "+1:6",
        "0x1:6",
        "1.0:6",
        "\u0661:6",  # an Arabic-Indic digit
        "0000000000000001:6",  # more than 15 digits
        "2:4😀",  # the length ends inside a surrogate pair
        "1:4😀",
        "4:4😀😀",
    ],
)
def test_malformed_text_payload_is_refused(body: str) -> None:  # hostile-inputs E04
    with pytest.raises(InvalidPacket) as info:
        decode3(body)
    assert info.value.http_status == 400


def test_astral_characters_count_two_units() -> None:
    assert decode3("3:4😀5:4😀😀3:4a€") == [
        EnginePacket(MESSAGE, "😀"),
        EnginePacket(MESSAGE, "😀😀"),
        EnginePacket(MESSAGE, "a€"),
    ]


def test_text_payload_may_be_given_as_utf8_bytes() -> None:
    assert decode3("3:4😀".encode()) == [EnginePacket(MESSAGE, "😀")]
    with pytest.raises(InvalidPacket, match="UTF-8"):
        decode3(b"2:4\xed\xa0\x80")


def test_b4_records_decode_to_binary_messages() -> None:
    assert decode3("10:b4AQIDBA==2:b4") == [
        EnginePacket(MESSAGE, b"\x01\x02\x03\x04"),
        EnginePacket(MESSAGE, b""),
    ]


# --- binary payload decoding -----------------------------------------------------------------


def test_empty_binary_payload_is_no_packets() -> None:
    assert decode3(b"", binary=True) == []


@pytest.mark.parametrize(
    "body",
    [
        "02 ff 34 36",  # flag 2 (npm reads any non-zero flag as binary)
        "00 01",  # no 0xff terminator
        "00 ff 36",  # no length digits
        "00 0a ff 36",  # a digit byte above 9
        "00 31 ff 36",  # an ASCII digit instead of a digit byte
        "00 02 ff 36",  # record cut short (npm truncates silently)
        "01 05 ff 04 01",  # binary record cut short
        "00 00 ff",  # empty text record
        "01 00 ff",  # empty binary record
        "01 02 ff 02 01",  # binary record that is not a message
        "00 02 ff 37 37",  # unknown packet type
        "00 02 ff 34 ff",  # invalid UTF-8
        "00 04 ff 34 ed a0 80",  # an encoded surrogate (npm's utf8.js turns it into U+FFFD)
        "00 03 ff 34 c0 af",  # overlong encoding
        "00 01 ff 36 05",  # trailing garbage
        "00" + " 00" * 16 + " 01 ff 36",  # more than 15 length digits
    ],
)
def test_malformed_binary_payload_is_refused(body: str) -> None:
    with pytest.raises(InvalidPacket):
        decode3(bytes.fromhex(body), binary=True)


def test_binary_payload_text_record_may_hold_a_base64_packet() -> None:
    assert decode3(b"\x00\x06\xffb4AQ==", binary=True) == [EnginePacket(MESSAGE, b"\x01")]


def test_binary_payload_given_as_str_is_its_utf8_bytes() -> None:
    assert decode3("", binary=True) == []
    with pytest.raises(InvalidPacket):
        decode3("\x00\x01\xff6", binary=True)  # "\xff" is two bytes in UTF-8
    with pytest.raises(InvalidPacket):
        decode3("\ud800", binary=True)


def test_payload_must_be_str_or_bytes() -> None:
    for binary in (False, True):
        with pytest.raises(TypeError):
            decode3(42, binary=binary)  # type: ignore[arg-type]


def test_binary_payload_size_limit() -> None:
    body = encode_payload([EnginePacket(MESSAGE, b"x" * 100)], eio=3)
    assert isinstance(body, bytes)
    decode3(body, binary=True, max_payload=len(body))
    with pytest.raises(PayloadTooLarge):
        decode3(body, binary=True, max_payload=len(body) - 1)


# --- time ------------------------------------------------------------------------------------


def _text_body(record: str, count: int) -> str:
    return f"{utf16_length(record)}:{record}" * count


@pytest.mark.parametrize(
    ("body", "binary"),
    [
        pytest.param(_text_body("4" + "a" * (MB - 20), 1), False, id="one-ascii-record"),
        pytest.param(_text_body("4" + "😀" * (MB // 4 - 5), 1), False, id="one-astral-record"),
        pytest.param(_text_body("4" + "😀a" * 166, MB // 1000), False, id="1kb-astral-records"),
        pytest.param(_text_body("4" + "€" * 333, MB // 1000), False, id="1kb-bmp-records"),
        pytest.param(_text_body("4" + "a" * 995, MB // 1000), False, id="1kb-ascii-records"),
        pytest.param(f"{MB}:4" + "😀" * (MB // 4 - 4), False, id="overrun-astral"),
        pytest.param(
            encode_payload([EnginePacket(MESSAGE, b"x" * (MB - 10))], eio=3), True, id="bin"
        ),
        pytest.param(
            encode_payload(
                [EnginePacket(MESSAGE, "é" * 497), EnginePacket(MESSAGE, b"x" * 994)]
                * (MB // 2000),
                eio=3,
            ),
            True,
            id="bin-1kb-records",
        ),
    ],
)
def test_one_megabyte_payload_decodes_in_under_50ms(body: str | bytes, binary: bool) -> None:
    # Realistic record sizes; a flood of tiny records costs a few us per record (see below).
    assert best_time(lambda: decode3(body, binary=binary), repeat=5) < 0.05


@pytest.mark.parametrize("record", ["4a", "4😀"])
def test_tiny_record_flood_decodes_in_linear_time(record: str) -> None:
    # A few us per record: linear, but not < 50 ms/MB (see test_payload.py).
    small = _text_body(record, MB // 80)
    large = _text_body(record, MB // 20)
    small_time = best_time(lambda: decode3(small))
    large_time = best_time(lambda: decode3(large))
    assert large_time < 8 * small_time + 0.02
    megabyte = _text_body(record, MB // 5)
    assert best_time(lambda: decode3(megabyte), repeat=1) < 3.0


def test_encoding_a_megabyte_is_fast() -> None:
    packets = [EnginePacket(MESSAGE, "😀" * 250)] * 1000
    assert best_time(lambda: encode_payload(packets, eio=3)) < 0.05
    packets += [EnginePacket(MESSAGE, b"x" * 1000)] * 100
    assert best_time(lambda: encode_payload(packets, eio=3)) < 0.05
    assert best_time(lambda: encode_payload(packets, eio=3, b64=True)) < 0.05


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=150)
@given(packets=st.lists(v3_packets, max_size=8), b64=st.booleans())
def test_payload_round_trip(packets: list[EnginePacket], b64: bool) -> None:
    body = encode_payload(packets, eio=3, b64=b64)
    binary = isinstance(body, bytes)
    assert binary == (not b64 and any(p.binary for p in packets))
    assert decode3(body, binary=binary) == packets
    if not binary:
        assert isinstance(body, str)
        assert decode3(body.encode(), binary=False) == packets


@settings(max_examples=200)
@given(body=st.text() | st.binary(), binary=st.booleans())
def test_decoding_arbitrary_bodies_gives_packets_or_a_protocol_error(
    body: str | bytes, binary: bool
) -> None:
    try:
        packets = decode3(body, binary=binary)
    except ProtocolError:
        return
    assert all(isinstance(p, EnginePacket) for p in packets)


@st.composite
def near_valid_text_bodies(draw: st.DrawFn) -> str:
    """Length-prefixed records whose lengths are usually right, sometimes off or odd."""
    parts = []
    for record in draw(st.lists(st.text(alphabet="4b6x😀€\ud800AQ=", max_size=6), max_size=4)):
        length = len(record.encode("utf-16-le", "surrogatepass")) // 2
        prefix = draw(
            st.sampled_from([str(length), str(length), str(length + 1), str(max(length - 1, 0))])
            | st.text(alphabet="0123456789 -+e", max_size=3)
        )
        parts.append(f"{prefix}:{record}")
    return "".join(parts)


@settings(max_examples=200)
@given(body=near_valid_text_bodies())
def test_decoding_near_valid_text_bodies_gives_packets_or_a_protocol_error(body: str) -> None:
    try:
        packets = decode3(body)
    except ProtocolError:
        return
    assert decode3(encode_payload(packets, eio=3, b64=True)) == packets


@st.composite
def near_valid_binary_bodies(draw: st.DrawFn) -> bytes:
    """Binary payload records with mostly right headers."""
    out = b""
    for record in draw(st.lists(st.binary(max_size=6), max_size=4)):
        flag = draw(st.sampled_from([b"\x00", b"\x01", b"\x01", b"\x02"]))
        length = len(record) + draw(st.sampled_from([0, 0, 0, 1, -1]))
        digits = bytes(int(c) for c in str(max(length, 0)))
        out += flag + digits + draw(st.sampled_from([b"\xff", b"\xff", b""])) + record
    return out


@settings(max_examples=200)
@given(body=near_valid_binary_bodies())
def test_decoding_near_valid_binary_bodies_gives_packets_or_a_protocol_error(body: bytes) -> None:
    try:
        packets = decode3(body, binary=True)
    except ProtocolError:
        return
    assert all(isinstance(p, EnginePacket) for p in packets)
