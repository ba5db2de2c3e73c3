from __future__ import annotations

import pytest

from siox.errors import InvalidPacket
from siox.http.frames import (
    MAX_CLOSE_REASON_BYTES,
    CloseCode,
    Opcode,
    encode_close_payload,
    encode_frame,
    frame_binary,
    frame_text,
    parse_close_payload,
    read_frame_header,
    truncate_close_reason,
)


@pytest.mark.parametrize(
    ("size", "header_size"), [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)]
)
def test_frame_length_uses_the_shortest_encoding(size: int, header_size: int) -> None:
    frame = encode_frame(Opcode.BINARY, b"x" * size)
    assert len(frame) == header_size + size
    header = read_frame_header(frame, masked=False, compression=False)
    assert header is not None
    assert (header.length, header.size, header.fin, header.opcode) == (size, header_size, True, 2)


def test_server_frames_are_unmasked_and_shareable() -> None:
    assert frame_text(b"hi") == b"\x81\x02hi"
    assert frame_binary(b"\x00") == b"\x82\x01\x00"


def test_masked_frame_carries_key_and_masked_payload() -> None:
    frame = encode_frame(Opcode.TEXT, b"Hello", mask_key=b"\x37\xfa\x21\x3d")
    assert frame == bytes.fromhex("818537fa213d7f9f4d5158")  # RFC 6455 section 5.7


def test_fin_and_rsv1_bits_are_encoded() -> None:
    assert encode_frame(Opcode.TEXT, b"", fin=False)[0] == 0x01
    assert encode_frame(Opcode.TEXT, b"", rsv1=True)[0] == 0xC1


def test_header_waits_for_extended_length_bytes() -> None:
    frame = encode_frame(Opcode.BINARY, b"x" * 70000)
    for cut in range(10):
        assert read_frame_header(frame[:cut], masked=False, compression=False) is None
    assert read_frame_header(frame[:10], masked=False, compression=False) is not None


@pytest.mark.parametrize(
    ("first", "second", "masked", "compression"),
    [
        (0xA1, 0x80, True, False),  # RSV2
        (0x91, 0x80, True, False),  # RSV3
        (0xC1, 0x80, True, False),  # RSV1 without deflate
        (0xC0, 0x80, True, True),  # RSV1 on a continuation
        (0xC9, 0x80, True, True),  # RSV1 on a ping
        (0x83, 0x80, True, False),  # reserved data opcode 0x3
        (0x8B, 0x80, True, False),  # reserved control opcode 0xB
        (0x81, 0x00, True, False),  # unmasked client frame
        (0x81, 0x80, False, False),  # masked server frame
        (0x09, 0x80, True, False),  # fragmented ping
        (0x89, 0xFE, True, False),  # ping announcing 126+ bytes
    ],
)
def test_header_rejects_protocol_violations(
    first: int, second: int, masked: bool, compression: bool
) -> None:
    with pytest.raises(InvalidPacket) as info:
        read_frame_header(
            bytes([first, second]) + b"\x00" * 12, masked=masked, compression=compression
        )
    assert info.value.ws_close_code == 1002


def test_header_rejects_64_bit_length_with_top_bit_set() -> None:
    data = b"\x82\x7f" + b"\x80" + b"\x00" * 7
    with pytest.raises(InvalidPacket):
        read_frame_header(data, masked=False, compression=False)


def test_header_tolerates_non_minimal_length() -> None:
    data = b"\x82\x7e\x00\x05hello"
    header = read_frame_header(data, masked=False, compression=False)
    assert header is not None
    assert header.length == 5


def test_close_payload_round_trips() -> None:
    assert parse_close_payload(encode_close_payload(4000, "bye")) == (4000, "bye")
    assert parse_close_payload(encode_close_payload(None)) == (CloseCode.NO_STATUS, "")


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_received_close_with_unsendable_code_is_a_protocol_error(code: int) -> None:
    with pytest.raises(InvalidPacket) as info:
        parse_close_payload(code.to_bytes(2, "big"))
    assert info.value.ws_close_code == 1002


def test_received_close_with_one_byte_payload_is_a_protocol_error() -> None:
    with pytest.raises(InvalidPacket) as info:
        parse_close_payload(b"\x03")
    assert info.value.ws_close_code == 1002


def test_received_close_with_invalid_utf8_reason_is_1007() -> None:
    with pytest.raises(InvalidPacket) as info:
        parse_close_payload(b"\x03\xe8\xc0\xaf")
    assert info.value.ws_close_code == 1007


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1012, 1013, 1014, 3000, 4999])
def test_received_close_accepts_registered_codes(code: int) -> None:
    assert parse_close_payload(code.to_bytes(2, "big") + b"ok") == (code, "ok")


def test_close_reason_is_truncated_to_123_bytes() -> None:
    payload = encode_close_payload(1000, "r" * 200)
    assert len(payload) == 125
    assert payload[2:] == b"r" * MAX_CLOSE_REASON_BYTES


def test_close_reason_is_truncated_at_a_character_boundary() -> None:
    reason = "a" + "€" * 100  # 1 + 300 bytes; 123 = 1 + 3 * 40 + 2, so the cut splits a "€"
    encoded = truncate_close_reason(reason)
    assert len(encoded) == 121
    assert encoded.decode("utf-8") == "a" + "€" * 40


def test_close_reason_with_lone_surrogate_never_sends_garbage() -> None:
    assert truncate_close_reason("a\udc80b") == b"a?b"


@pytest.mark.parametrize("reason", [b"bytes", bytearray(b"ba"), memoryview(b"mv")])
def test_bytes_like_close_reason_is_rejected(reason: object) -> None:
    with pytest.raises(TypeError):
        encode_close_payload(1000, reason)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", [1005, 1006, 1015, 999, 5000, 2000])
def test_unsendable_close_code_is_rejected(code: int) -> None:
    with pytest.raises(ValueError, match="may not be sent"):
        encode_close_payload(code)


def test_close_code_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        encode_close_payload("1000")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode_close_payload(True)


def test_reason_without_code_is_rejected() -> None:
    with pytest.raises(ValueError, match="needs a close code"):
        encode_close_payload(None, "why")


def test_a_close_reason_that_is_not_utf8_keeps_the_decoding_error_as_its_cause() -> None:
    with pytest.raises(InvalidPacket) as info:
        parse_close_payload(b"\x03\xe8\xff")
    assert isinstance(info.value.__cause__, UnicodeDecodeError)
