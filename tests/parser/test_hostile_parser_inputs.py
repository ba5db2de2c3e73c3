"""The parser rows of hostile-inputs.md, answered at the codec level (the decoder's verdict)."""

from __future__ import annotations

import time

import pytest

from siox.errors import InvalidPacket
from siox.parser import Decoder, Packet, PacketType, decode


def feed_all(*chunks: str | bytes) -> list[Packet]:
    decoder = Decoder()
    out: list[Packet] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out


@pytest.mark.parametrize(
    "text", ['2[{"toString":"foo"}]', '2[true,"x"]', '2[null,"x"]', "2[]", '2[["a"],1]']
)
def test_p01_event_without_a_valid_name_is_invalid(text: str) -> None:
    with pytest.raises(InvalidPacket):
        decode(text)


@pytest.mark.parametrize(
    "name",
    ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"],
)
def test_p02_reserved_event_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidPacket):
        decode(f'2["{name}","x"]')


def test_p03_error_event_is_an_ordinary_event() -> None:
    assert decode('2["error"]') == Packet(PacketType.EVENT, data=["error"])
    assert decode('2["error",{"x":1}]').data == ["error", {"x": 1}]


def test_p04_placeholder_num_string_is_illegal() -> None:
    with pytest.raises(InvalidPacket, match="illegal attachments"):
        feed_all('51-["a",{"_placeholder":true,"num":"splice"}]', b"\x01")


def test_p06_placeholder_out_of_range_is_illegal() -> None:
    with pytest.raises(InvalidPacket, match="illegal attachments"):
        feed_all('51-["a",{"_placeholder":true,"num":1}]', b"\x01")


@pytest.mark.parametrize("text", ['5-1-["a"]', '5abc-["a"]', '51["a"]', '5-["a"]', "5"])
def test_p08_malformed_attachment_counts(text: str) -> None:
    with pytest.raises(InvalidPacket, match="ttachments"):
        feed_all(text)


def test_p10_binary_without_pending_header() -> None:
    with pytest.raises(InvalidPacket, match="binary data when not reconstructing"):
        feed_all(b"\x01\x02\x03")


def test_p11_plaintext_during_reconstruction() -> None:
    with pytest.raises(InvalidPacket, match="plaintext"):
        feed_all('51-["a",{"_placeholder":true,"num":0}]', '2["b"]')


@pytest.mark.parametrize("text", ["2{}", "abc", '2"str"', "2null", "2[", "[" * 1_000_000])
def test_p12_garbage_is_rejected_fast(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidPacket):
        decode(text)
    assert time.perf_counter() - started < 0.05


def test_p12_one_megabyte_of_brackets_after_a_type_is_rejected_fast() -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidPacket):
        decode("2" + "[" * 1_000_000)
    assert time.perf_counter() - started < 0.05


def test_p16_ack_for_unknown_id_decodes_and_is_left_to_the_socket_layer() -> None:
    assert decode('399["x"]') == Packet(PacketType.ACK, data=["x"], id=99)


@pytest.mark.parametrize("text", ['7["x"]', "9", "-1", ""])
def test_p17_unknown_or_empty_types(text: str) -> None:
    with pytest.raises(InvalidPacket):
        decode(text)


def test_p18_namespace_edge_cases_do_not_crash() -> None:
    assert decode("2/admin") == Packet(PacketType.EVENT, "/admin")
    assert decode("2/admin,") == Packet(PacketType.EVENT, "/admin")
    long_name = "/" + "a" * 100_000
    assert decode("0" + long_name) == Packet(PacketType.CONNECT, long_name)
    assert decode("0/a?x=1,{}") == Packet(PacketType.CONNECT, "/a?x=1", {})
    assert decode("0/%2e%2e,") == Packet(PacketType.CONNECT, "/%2e%2e")


@pytest.mark.parametrize("text", ['0["a"]', '0"tok"', "0/nsp,123", "0/nsp,null"])
def test_p19_connect_with_non_object_auth_is_invalid(text: str) -> None:
    with pytest.raises(InvalidPacket):
        decode(text)


def test_p20_connect_error_from_a_client_decodes_and_is_left_to_the_socket_layer() -> None:
    assert decode('4{"message":"x"}') == Packet(PacketType.CONNECT_ERROR, data={"message": "x"})


@pytest.mark.parametrize("text", ['2["' + "a" * 999_000 + '"]', "2/" + "a" * 999_000 + ',["x"]'])
def test_p21_megabyte_packets_decode_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    packet = decode(text)
    assert packet.type is PacketType.EVENT
    assert time.perf_counter() - started < 0.02 * 5  # 20 ms/MB, with a wide margin for CI


def test_k01_huge_attachment_count_is_refused() -> None:
    with pytest.raises(InvalidPacket, match="too many attachments"):
        feed_all('51000000-["a"]')
