"""Engine.IO single-packet codec (one WebSocket frame), v4 and v3."""

from __future__ import annotations

import binascii

import pytest
from hypothesis import given, settings, strategies as st

from siox.engineio import EnginePacket, EnginePacketType, decode_packet, encode_packet
from siox.errors import InvalidPacket, ProtocolError

MESSAGE = EnginePacketType.MESSAGE

text_packets = st.builds(EnginePacket, st.sampled_from(EnginePacketType), st.text(max_size=50))
binary_packets = st.builds(EnginePacket, st.just(MESSAGE), st.binary(max_size=50))
packets = text_packets | binary_packets


# --- encoding --------------------------------------------------------------------------------


@pytest.mark.parametrize("eio", [3, 4])
@pytest.mark.parametrize(
    ("packet", "frame"),
    [
        (EnginePacket(EnginePacketType.OPEN, '{"sid":"abc"}'), '0{"sid":"abc"}'),
        (EnginePacket(EnginePacketType.CLOSE), "1"),
        (EnginePacket(EnginePacketType.PING), "2"),
        (EnginePacket(EnginePacketType.PING, "probe"), "2probe"),
        (EnginePacket(EnginePacketType.PONG, "probe"), "3probe"),
        (EnginePacket(MESSAGE, "hello €😀"), "4hello €😀"),
        (EnginePacket(MESSAGE), "4"),
        (EnginePacket(EnginePacketType.UPGRADE), "5"),
        (EnginePacket(EnginePacketType.NOOP), "6"),
    ],
)
def test_text_packet_is_type_digit_then_text(packet: EnginePacket, frame: str, eio: int) -> None:
    assert encode_packet(packet, eio=eio) == frame
    assert decode_packet(frame, eio=eio) == packet


def test_v4_binary_message_is_the_raw_bytes() -> None:
    assert encode_packet(EnginePacket(MESSAGE, b"\x01\x02\x03")) == b"\x01\x02\x03"
    assert encode_packet(EnginePacket(MESSAGE, b"")) == b""


def test_v3_binary_message_starts_with_the_type_byte() -> None:
    assert encode_packet(EnginePacket(MESSAGE, b"\x01\x02\x03"), eio=3) == b"\x04\x01\x02\x03"
    assert encode_packet(EnginePacket(MESSAGE, b""), eio=3) == b"\x04"


def test_binary_message_with_b64_is_base64_text() -> None:
    assert encode_packet(EnginePacket(MESSAGE, b"\x01\x02\x03\x04"), b64=True) == "bAQIDBA=="
    assert (
        encode_packet(EnginePacket(MESSAGE, b"\x01\x02\x03\x04"), eio=3, b64=True) == "b4AQIDBA=="
    )
    assert encode_packet(EnginePacket(MESSAGE, b""), b64=True) == "b"


def test_b64_does_not_change_text_packets() -> None:
    assert encode_packet(EnginePacket(MESSAGE, "x"), b64=True) == "4x"


def test_encoder_accepts_bytes_like_data() -> None:
    data = bytearray(b"\x01\x02")
    assert encode_packet(EnginePacket(MESSAGE, data)) == b"\x01\x02"  # type: ignore[arg-type]
    assert encode_packet(EnginePacket(MESSAGE, memoryview(b"\x01")), eio=3) == b"\x04\x01"  # type: ignore[arg-type]


@pytest.mark.parametrize("eio", [3, 4])
def test_encoder_refuses_binary_on_a_control_packet(eio: int) -> None:
    with pytest.raises(ValueError, match="only a MESSAGE"):
        encode_packet(EnginePacket(EnginePacketType.PING, b"x"), eio=eio)


@pytest.mark.parametrize("bad_type", [7, -1, True, "4"])
def test_encoder_refuses_unknown_packet_types(bad_type: object) -> None:
    with pytest.raises(ValueError, match=r"unknown Engine\.IO packet type"):
        encode_packet(EnginePacket(bad_type, "x"))  # type: ignore[arg-type]


def test_plain_int_types_are_accepted() -> None:
    assert encode_packet(EnginePacket(4, "x")) == "4x"  # type: ignore[arg-type]


@pytest.mark.parametrize("eio", [2, 5, 0])
def test_unsupported_revision_is_a_value_error(eio: int) -> None:
    with pytest.raises(ValueError, match="revision"):
        encode_packet(EnginePacket(MESSAGE), eio=eio)
    with pytest.raises(ValueError, match="revision"):
        decode_packet("4", eio=eio)


def test_packet_binary_property() -> None:
    assert EnginePacket(MESSAGE, b"").binary
    assert not EnginePacket(MESSAGE, "").binary
    assert not EnginePacket(EnginePacketType.PING).binary


# --- decoding --------------------------------------------------------------------------------


@pytest.mark.parametrize("eio", [3, 4])
@pytest.mark.parametrize("frame", ["", "7", "9x", "x", "٤x", " 4x", "-1", "\x00"])
def test_invalid_text_frame_is_refused(frame: str, eio: int) -> None:  # hostile-inputs E01
    with pytest.raises(InvalidPacket) as info:
        decode_packet(frame, eio=eio)
    assert info.value.http_status == 400
    assert info.value.ws_close_code == 1002


@pytest.mark.parametrize("frame", [b"2probe", b"0{}", b"1", b"", b"\x04abc", b"\xff\x00"])
def test_v4_binary_frame_is_always_a_binary_message(frame: bytes) -> None:  # E11
    assert decode_packet(frame) == EnginePacket(MESSAGE, frame)


def test_v4_decoder_accepts_bytes_like_frames() -> None:
    assert decode_packet(bytearray(b"ab")) == EnginePacket(MESSAGE, b"ab")  # type: ignore[arg-type]  # bytes-like on purpose: accepted though not in the signature
    assert decode_packet(memoryview(b"ab")) == EnginePacket(MESSAGE, b"ab")  # type: ignore[arg-type]  # bytes-like on purpose: accepted though not in the signature
    assert type(decode_packet(bytearray(b"ab")).data) is bytes  # type: ignore[arg-type]  # bytes-like on purpose: accepted though not in the signature


def test_v3_binary_frame_drops_the_type_byte() -> None:
    assert decode_packet(b"\x04\x01\x02", eio=3) == EnginePacket(MESSAGE, b"\x01\x02")
    assert decode_packet(b"\x04", eio=3) == EnginePacket(MESSAGE, b"")


@pytest.mark.parametrize("frame", [b"", b"\x02probe", b"\x00", b"4abc", b"\x07"])
def test_v3_binary_frame_must_be_a_message(frame: bytes) -> None:
    with pytest.raises(InvalidPacket):
        decode_packet(frame, eio=3)


def test_text_frame_starting_with_b_is_a_base64_binary_message() -> None:
    assert decode_packet("bAQIDBA==") == EnginePacket(MESSAGE, b"\x01\x02\x03\x04")
    assert decode_packet("b") == EnginePacket(MESSAGE, b"")
    assert decode_packet("b4AQIDBA==", eio=3) == EnginePacket(MESSAGE, b"\x01\x02\x03\x04")
    assert decode_packet("b4", eio=3) == EnginePacket(MESSAGE, b"")


@pytest.mark.parametrize("frame", ["b", "bAQID", "b2AQID", "b0", "b6"])
def test_v3_base64_packet_must_be_a_message(frame: str) -> None:
    with pytest.raises(InvalidPacket):
        decode_packet(frame, eio=3)


@pytest.mark.parametrize(
    "base64",
    [
        "AQ",  # no padding
        "AQ=",  # short padding
        "AQ=A",  # discontinuous padding
        "====",
        "AAA!!!",
        "-_8=",  # URL-safe alphabet
        "AQ==AQ==",  # data after the padding
        "AQ==\n",
        " AQ==",
        "AQ\u00e9=",  # non-ASCII
        "A",
    ],
)
@pytest.mark.parametrize("eio", [3, 4])
def test_base64_is_strict(base64: str, eio: int) -> None:  # E03
    prefix = "b" if eio == 4 else "b4"
    with pytest.raises(InvalidPacket, match="base64"):
        decode_packet(prefix + base64, eio=eio)


def test_decoder_rejects_non_frames_with_type_error() -> None:
    with pytest.raises(TypeError):
        decode_packet(42)  # type: ignore[arg-type]


def test_error_messages_stay_short_on_huge_input() -> None:
    with pytest.raises(InvalidPacket) as info:
        decode_packet("x" * 1_000_000)
    assert len(str(info.value)) < 200


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=150)
@given(packet=packets, eio=st.sampled_from([3, 4]), b64=st.booleans())
def test_packet_round_trip(packet: EnginePacket, eio: int, b64: bool) -> None:
    frame = encode_packet(packet, eio=eio, b64=b64)
    assert isinstance(frame, str) == (not packet.binary or b64)
    assert decode_packet(frame, eio=eio) == packet


@settings(max_examples=200)
@given(frame=st.text() | st.binary(), eio=st.sampled_from([3, 4]))
def test_decoding_arbitrary_frames_gives_a_packet_or_a_protocol_error(
    frame: str | bytes, eio: int
) -> None:
    try:
        packet = decode_packet(frame, eio=eio)
    except ProtocolError:
        return
    assert isinstance(packet, EnginePacket)
    assert isinstance(packet.type, EnginePacketType)


@settings(max_examples=200)
@given(
    frame=st.text(alphabet="0123456789bx4AQID=+/-_ \n!é😀\ud800", max_size=12),
    eio=st.sampled_from([3, 4]),
)
def test_decoding_near_valid_frames_gives_a_packet_or_a_protocol_error(
    frame: str, eio: int
) -> None:
    try:
        packet = decode_packet(frame, eio=eio)
    except ProtocolError:
        return
    # Canonical input re-encodes to itself; base64 with non-zero pad bits (accepted, as npm does)
    # re-encodes canonically.
    again = encode_packet(packet, eio=eio, b64=packet.binary)
    assert decode_packet(again, eio=eio) == packet
    if not packet.binary:
        assert again == frame


def test_invalid_packet_keeps_the_decoding_error_as_its_cause() -> None:
    with pytest.raises(InvalidPacket) as info:
        decode_packet("b!!!")
    assert isinstance(info.value.__cause__, binascii.Error)
