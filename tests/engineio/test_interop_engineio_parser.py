"""Differential tests against npm engine.io-parser 5.2.3 (EIO 4) and 2.2.1 (EIO 3) through Node.

Both directions for every format: siox's encoding must equal npm's byte for byte, npm must
decode what siox encodes, and siox must decode what npm encodes. On near-valid hostile input
siox may refuse more than npm (the deliberate differences, pinned in the last tests) but must
never accept anything npm refuses or decode anything differently.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from siox.engineio import (
    SEPARATOR,
    EnginePacket,
    EnginePacketType,
    decode_packet,
    decode_payload,
    encode_packet,
    encode_payload,
    utf16_length,
)
from siox.errors import InvalidPacket

pytestmark = pytest.mark.interop

MESSAGE = EnginePacketType.MESSAGE
interop_settings = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Text with astral characters (2 UTF-16 units), multi-byte BMP characters, digits and colons.
any_text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from("a€😀𝄞\U0010ffff\x00:0123456789b"),
    max_size=30,
)
v4_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters=SEPARATOR) | st.sampled_from("€😀𝄞:b"),
    max_size=30,
)
binary_packets = st.builds(EnginePacket, st.just(MESSAGE), st.binary(max_size=30))
packets = st.builds(EnginePacket, st.sampled_from(EnginePacketType), any_text) | binary_packets
v4_payload_packets = (
    st.builds(EnginePacket, st.sampled_from(EnginePacketType), v4_text) | binary_packets
)


def siox_decode_payload(body: str | bytes, eio: int) -> list[EnginePacket] | None:
    try:
        return decode_payload(body, eio=eio, binary=isinstance(body, bytes))
    except InvalidPacket:
        return None


def siox_decode_packet(frame: str | bytes, eio: int) -> EnginePacket | None:
    try:
        return decode_packet(frame, eio=eio)
    except InvalidPacket:
        return None


# --- siox encodes = npm encodes; each decodes the other's output -----------------------------


@interop_settings
@given(packet=packets, eio=st.sampled_from([3, 4]), b64=st.booleans())
def test_packet_encoding_matches_npm(
    eio_oracle: Any, packet: EnginePacket, eio: int, b64: bool
) -> None:
    ours = encode_packet(packet, eio=eio, b64=b64)
    theirs = eio_oracle.encode_packet(packet, eio=eio, binary=not b64)
    assert ours == theirs
    assert eio_oracle.decode_packet(ours, eio=eio) == packet
    assert decode_packet(theirs, eio=eio) == packet


@interop_settings
@given(packets=st.lists(v4_payload_packets, min_size=1, max_size=6))
def test_v4_payload_encoding_matches_npm(eio_oracle: Any, packets: list[EnginePacket]) -> None:
    ours = encode_payload(packets)
    theirs = eio_oracle.encode_payload(packets, eio=4, binary=False)
    assert ours == theirs
    assert eio_oracle.decode_payload(ours, eio=4) == packets
    assert decode_payload(theirs) == packets


@interop_settings
@given(packets=st.lists(packets, max_size=6), b64=st.booleans())
def test_v3_payload_encoding_matches_npm(
    eio_oracle: Any, packets: list[EnginePacket], b64: bool
) -> None:
    ours = encode_payload(packets, eio=3, b64=b64)
    theirs = eio_oracle.encode_payload(packets, eio=3, binary=not b64)
    assert ours == theirs
    assert eio_oracle.decode_payload(ours, eio=3) == packets
    assert decode_payload(theirs, eio=3, binary=isinstance(theirs, bytes)) == packets


@pytest.mark.parametrize(
    "text", ["😀", "a😀b", "𝄞" * 5 + "€", "\U0010ffff\U00010000", "x" * 9 + "😀", "😀" * 50]
)
def test_v3_lengths_count_utf16_units_like_npm(eio_oracle: Any, text: str) -> None:
    packet = EnginePacket(MESSAGE, text)
    body = eio_oracle.encode_payload([packet, packet], eio=3, binary=True)
    assert body == encode_payload([packet, packet], eio=3)
    assert body.startswith(f"{utf16_length(text) + 1}:4{text}")
    assert utf16_length(text) != len(text)


def test_empty_packet_lists(eio_oracle: Any) -> None:
    assert eio_oracle.call("encodePayload", eio=4, packets=[])["body"] is None  # never calls back
    with pytest.raises(ValueError, match="at least one packet"):
        encode_payload([])
    assert eio_oracle.decode_payload("", eio=4) is None  # and "" is not a v4 payload
    for binary in (False, True):
        assert eio_oracle.encode_payload([], eio=3, binary=binary) == "0:"
    assert eio_oracle.decode_payload("0:", eio=3) == []
    assert decode_payload("0:", eio=3) == []


# --- hostile input: siox accepts a subset of what npm accepts, with the same result ----------


@st.composite
def near_valid_v4_payloads(draw: st.DrawFn) -> str:
    records = draw(
        st.lists(
            st.sampled_from(["4hello", "2", "6", "b", "bAQ==", "bAQID", "1"])
            | st.text(alphabet="0123456789b4AQIDw=+/-_ \n!é😀", max_size=8),
            min_size=1,
            max_size=4,
        )
    )
    return SEPARATOR.join(records)


@interop_settings
@given(body=near_valid_v4_payloads())
def test_v4_payload_decoding_never_accepts_more_than_npm(eio_oracle: Any, body: str) -> None:
    ours = siox_decode_payload(body, 4)
    if ours is not None:
        assert eio_oracle.decode_payload(body, eio=4) == ours


@st.composite
def near_valid_v3_text_payloads(draw: st.DrawFn) -> str:
    """Mostly valid records, with lengths that are usually right and sometimes odd."""
    parts = []
    records = (
        st.sampled_from(["4hello", "2probe", "6", "b4AQ==", "4😀", "4€", "b4", "b4AQ"])
        | st.text(alphabet="0123456789b4AQ=x:😀€é", max_size=6)
        | st.builds("{}{}".format, st.sampled_from("0123456"), any_text)
    )
    for record in draw(st.lists(records, max_size=4)):
        length = len(record.encode("utf-16-le")) // 2
        prefix = draw(
            st.sampled_from([str(length)] * 12 + [str(length + 1), str(max(length - 1, 0))])
            | st.sampled_from(["0", "01", " 1", "1e0", "+1", "-1", ""])
        )
        parts.append(f"{prefix}:{record}")
    return "".join(parts)


@interop_settings
@given(body=near_valid_v3_text_payloads())
def test_v3_text_payload_decoding_never_accepts_more_than_npm(eio_oracle: Any, body: str) -> None:
    ours = siox_decode_payload(body, 3)
    if ours is not None:
        assert eio_oracle.decode_payload(body, eio=3) == ours


@st.composite
def near_valid_v3_binary_payloads(draw: st.DrawFn) -> bytes:
    """Binary payload records, mostly with the right flag, length and terminator."""
    body = b""
    text_records = st.sampled_from([b"4hello", b"6", b"4\xe2\x82\xac", b"b4AQ==", b"4\xed\xa0\x80"])
    binary_records = st.sampled_from([b"\x04\x01\x02", b"\x04", b"\x02"])
    for _ in range(draw(st.integers(0, 4))):
        flag = draw(st.sampled_from([b"\x00"] * 4 + [b"\x01"] * 4 + [b"\x02"]))
        if draw(st.integers(0, 9)) == 0:
            record = draw(st.binary(max_size=6))
        elif flag == b"\x00":
            record = draw(text_records | st.text(max_size=5).map(lambda t: b"4" + t.encode()))
        else:
            record = draw(binary_records | st.binary(max_size=5).map(lambda b: b"\x04" + b))
        length = len(record) + draw(st.sampled_from([0] * 12 + [1, -1]))
        digits = bytes(int(c) for c in str(max(length, 0)))
        body += flag + digits + draw(st.sampled_from([b"\xff"] * 12 + [b""])) + record
    return body


@interop_settings
@given(body=near_valid_v3_binary_payloads())
def test_v3_binary_payload_decoding_never_accepts_more_than_npm(
    eio_oracle: Any, body: bytes
) -> None:
    ours = siox_decode_payload(body, 3)
    if ours is not None:
        assert eio_oracle.decode_payload(body, eio=3) == ours


@interop_settings
@given(
    frame=st.text(alphabet="0123456789b4AQIDw=+/-_ é😀", max_size=10) | st.binary(max_size=6),
    eio=st.sampled_from([3, 4]),
)
def test_packet_decoding_never_accepts_more_than_npm(
    eio_oracle: Any, frame: str | bytes, eio: int
) -> None:
    ours = siox_decode_packet(frame, eio)
    if ours is not None:
        assert eio_oracle.decode_packet(frame, eio=eio) == ours


# --- the deliberate differences: npm accepts, siox refuses ----------------------------------


@pytest.mark.parametrize(
    ("eio", "body"),
    [
        pytest.param(4, "bAAA!!!", id="v4-base64-garbage"),
        pytest.param(4, "bAQ", id="v4-base64-no-padding"),
        pytest.param(4, "b-_8=", id="v4-base64-url-alphabet"),
        pytest.param(4, "bAQ==AQ==", id="v4-base64-data-after-padding"),
        pytest.param(3, "6:b4AAA!", id="v3-base64-garbage"),
        pytest.param(3, "6:b2AQ==", id="v3-base64-not-a-message"),
        pytest.param(3, " 1:6", id="v3-length-with-space"),
        pytest.param(3, "1e0:6", id="v3-length-exponent"),
        pytest.param(3, "+1:6", id="v3-length-plus"),
        pytest.param(3, "2:4\ud800", id="v3-lone-surrogate"),
        pytest.param(3, "3:4\ud83dx1:6", id="v3-lone-high-surrogate"),
        pytest.param(3, bytes.fromhex("02 02 ff 04 01"), id="v3-binary-flag-2"),
        pytest.param(3, bytes.fromhex("00 05 ff 36"), id="v3-binary-truncated-record"),
        pytest.param(3, bytes.fromhex("01 02 ff 02 01"), id="v3-binary-not-a-message"),
        pytest.param(3, bytes.fromhex("00 0a ff") + b"4" * 10, id="v3-binary-digit-byte-10"),
        pytest.param(3, bytes.fromhex("01 00 ff"), id="v3-binary-empty-record"),
        pytest.param(3, bytes.fromhex("00 04 ff 34 ed a0 80"), id="v3-binary-encoded-surrogate"),
    ],
)
def test_deliberately_stricter_than_npm_on_payloads(
    eio_oracle: Any, eio: int, body: str | bytes
) -> None:
    assert eio_oracle.decode_payload_raw(body, eio=eio)["error"] is False
    assert siox_decode_payload(body, eio) is None


def test_v4_payload_with_a_bad_record_is_refused_whole(eio_oracle: Any) -> None:
    # npm returns the packets before the bad record (engine.io handles them, then closes).
    answer = eio_oracle.decode_payload_raw("4a\x1e7", eio=4)
    assert answer["error"] is True
    assert answer["packets"] == [{"type": "message", "data": "a"}]
    assert siox_decode_payload("4a\x1e7", 4) is None


@pytest.mark.parametrize(
    ("eio", "frame"),
    [
        pytest.param(4, "bAQ", id="v4-base64-no-padding"),
        pytest.param(3, b"\x02probe", id="v3-binary-ping"),
        pytest.param(3, b"", id="v3-empty-binary-frame"),
        pytest.param(3, "b2AQ==", id="v3-base64-ping"),
    ],
)
def test_deliberately_stricter_than_npm_on_frames(
    eio_oracle: Any, eio: int, frame: str | bytes
) -> None:
    assert eio_oracle.decode_packet_raw(frame, eio=eio)["error"] is False
    assert siox_decode_packet(frame, eio) is None


def test_npm_writes_the_separator_inside_text_and_siox_refuses(eio_oracle: Any) -> None:
    packet = EnginePacket(MESSAGE, "x\x1e1")
    body = eio_oracle.encode_payload([packet], eio=4, binary=False)
    assert eio_oracle.decode_payload(body, eio=4) == [
        EnginePacket(MESSAGE, "x"),
        EnginePacket(EnginePacketType.CLOSE),
    ]
    with pytest.raises(ValueError, match="separator"):
        encode_payload([packet])
