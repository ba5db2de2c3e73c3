"""Revision 1 (the seed): a test for each behaviour the seed states."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from siox.parser import Packet, PacketType, rev1
from strategies import json_values, namespaces, text


def test_protocol_revision_is_1() -> None:
    assert rev1.protocol == 1


def test_types_are_the_five_packet_type_keys() -> None:
    assert rev1.types == ["CONNECT", "DISCONNECT", "EVENT", "ACK", "ERROR"]
    assert rev1.ERROR == 4


@pytest.mark.parametrize(
    ("packet", "wire"),
    [
        (Packet(PacketType.CONNECT), "0"),
        (Packet(PacketType.CONNECT, "/another"), "0/another"),  # implicit "/" + extra namespaces
        (Packet(PacketType.DISCONNECT, "/admin"), "1/admin"),
        (Packet(PacketType.EVENT, data=["news", {"a": 1}]), '2["news",{"a":1}]'),
        (Packet(PacketType.EVENT, "/admin", ["x"], 1), '2/admin,1["x"]'),  # acks with ids
        (Packet(PacketType.EVENT, "/admin", ["x"]), '2/admin,["x"]'),
        (Packet(PacketType.ACK, "/admin", ["y"], 1), '3/admin,1["y"]'),
        (Packet(PacketType.ACK, data=[], id=7), "37[]"),
        (Packet(PacketType.CONNECT_ERROR, "/admin", "Not authorized"), '4/admin,"Not authorized"'),
        (Packet(PacketType.CONNECT_ERROR, data={"code": 1}), '4{"code":1}'),  # mixed data
    ],
)
def test_encode_to_a_string_and_decode_back(packet: Packet, wire: str) -> None:
    encoded = rev1.encode(packet)
    assert isinstance(encoded, str)
    assert encoded == wire
    assert rev1.decode(wire) == packet


def test_decoder_accepts_the_later_trailing_comma_form() -> None:
    assert rev1.decode("1/admin,") == Packet(PacketType.DISCONNECT, "/admin")


@pytest.mark.parametrize("bad", ["", "5", "6[]", "x", '2["a"', "2/a,{", "2[NaN]", "29" * 20])
def test_a_parse_failure_returns_an_error_packet_instead_of_raising(bad: str) -> None:
    assert rev1.decode(bad) == Packet(PacketType.CONNECT_ERROR, "/", "parser error")
    assert rev1.decode(bad) == rev1.parser_error()


def test_bare_number_payloads_read_as_ack_ids_as_in_the_original() -> None:
    assert rev1.encode(Packet(PacketType.EVENT, data=0)) == "20"
    assert rev1.decode("20") == Packet(PacketType.EVENT, id=0)


def test_decode_never_raises_on_non_strings() -> None:
    assert rev1.decode(b"2[]").data == "parser error"  # type: ignore[arg-type]


def test_any_json_payload_is_accepted_for_any_type() -> None:
    assert rev1.decode("2{}") == Packet(PacketType.EVENT, data={})
    assert rev1.decode('2["connect"]').data == ["connect"]


@pytest.mark.parametrize(
    "packet",
    [
        Packet(PacketType.BINARY_EVENT, data=["x"]),
        Packet(PacketType.EVENT, "nope", ["x"]),
        Packet(PacketType.EVENT, data=["x"], id=-2),
    ],
)
def test_encode_refuses_what_revision_1_cannot_express(packet: Packet) -> None:
    with pytest.raises(ValueError):
        rev1.encode(packet)


def test_encode_refuses_binary_data() -> None:
    with pytest.raises(TypeError):
        rev1.encode(Packet(PacketType.EVENT, data=["x", b"\x00"]))


@given(
    ptype=st.sampled_from(list(PacketType)[:5]),
    nsp=namespaces,
    # A bare number payload is ambiguous with an ack id in revision 1 ("00" reads as id 0),
    # exactly as in the original decoder; such payloads are left out of the round trip.
    data=st.none() | json_values().filter(lambda v: not isinstance(v, (int, float))),
    ack=st.none() | st.integers(0, 2**53 - 1),
)
def test_round_trip(ptype: PacketType, nsp: str, data: object, ack: int | None) -> None:
    packet = Packet(ptype, nsp, data, ack)
    assert rev1.decode(rev1.encode(packet)) == packet


@given(st.text(max_size=50) | text)
def test_decode_is_total(garbage: str) -> None:
    assert isinstance(rev1.decode(garbage), Packet)
