"""The msgpack parser on its own: wire bytes, validation, limits and hypothesis properties.

The bytes expected here follow notepack.io 2.2's choices; test_interop_msgpack.py checks the same
against the npm package itself.
"""

from __future__ import annotations

import enum
import math
import time
import uuid
from typing import Any

import msgpack as msgpack_lib
import pytest
from hypothesis import given, settings, strategies as st

from siox.errors import InvalidPacket, PayloadTooLarge, ProtocolError
from siox.parser import Packet, PacketType, msgpack as mp
from siox.parser.packet import RESERVED_EVENTS

T = PacketType


def packed(**fields: Any) -> bytes:
    """A packet map built by hand, keys in the given order."""
    return bytes(msgpack_lib.packb(fields, use_bin_type=True))


def raw_map(*pairs: tuple[bytes, bytes]) -> bytes:
    """A fixmap from already encoded keys and values (for values packb cannot write)."""
    return bytes([0x80 | len(pairs)]) + b"".join(k + v for k, v in pairs)


def s(text: str) -> bytes:
    return bytes(msgpack_lib.packb(text))


UNDEFINED = b"\xd4\x00\x00"  # what notepack writes for JavaScript's undefined


def event_bytes(data_item: bytes) -> bytes:
    """An EVENT on "/" whose data is ["e", <data_item>]."""
    return raw_map(
        (s("type"), b"\x02"), (s("data"), b"\x92" + s("e") + data_item), (s("nsp"), s("/"))
    )


# --------------------------------------------------------------------------- encoding


def test_encode_writes_type_data_nsp_id_in_that_order() -> None:
    (wire,) = mp.encode(Packet(T.EVENT, "/chat", ["hi", 1], 7))
    assert wire == (b"\x84\xa4type\x02\xa4data\x92\xa2hi\x01\xa3nsp\xa5/chat\xa2id\x07")


def test_encode_leaves_out_absent_data_and_id() -> None:
    assert mp.encode(Packet(T.CONNECT)) == [b"\x82\xa4type\x00\xa3nsp\xa1/"]
    assert mp.encode(Packet(T.DISCONNECT, "/a")) == [b"\x82\xa4type\x01\xa3nsp\xa2/a"]


def test_encode_sends_binary_types_as_event_and_ack() -> None:
    (event,) = mp.encode(Packet(T.BINARY_EVENT, "/", ["e", b"\x01"]))
    (ack,) = mp.encode(Packet(T.BINARY_ACK, "/", [b"\x01"], 1))
    assert mp.decode(event).type is T.EVENT
    assert mp.decode(ack).type is T.ACK
    assert event == mp.encode(Packet(T.EVENT, "/", ["e", b"\x01"]))[0]


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\xcc\x80"),
        (255, b"\xcc\xff"),
        (256, b"\xcd\x01\x00"),
        (65535, b"\xcd\xff\xff"),
        (65536, b"\xce\x00\x01\x00\x00"),
        (2**32 - 1, b"\xce\xff\xff\xff\xff"),
        (2**32, b"\xcf\x00\x00\x00\x01\x00\x00\x00\x00"),
        (2**64 - 1, b"\xcf" + b"\xff" * 8),
        (-1, b"\xff"),
        (-32, b"\xe0"),
        (-33, b"\xd0\xdf"),
        (-128, b"\xd0\x80"),
        (-129, b"\xd1\xff\x7f"),
        (-32768, b"\xd1\x80\x00"),
        (-32769, b"\xd2\xff\xff\x7f\xff"),
        (-(2**31), b"\xd2\x80\x00\x00\x00"),
        (-(2**31) - 1, b"\xd3\xff\xff\xff\xff\x7f\xff\xff\xff"),
        (-(2**63), b"\xd3\x80" + b"\x00" * 7),
        # JavaScript has one number type: integral floats are written as integers.
        (1.0, b"\x01"),
        (-0.0, b"\x00"),
        (300.0, b"\xcd\x01\x2c"),
        (2.0**53, b"\xcf\x00\x20\x00\x00\x00\x00\x00\x00"),
        (2.5, b"\xcb\x40\x04\x00\x00\x00\x00\x00\x00"),
        (float("inf"), b"\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00"),
        (float("-inf"), b"\xcb\xff\xf0\x00\x00\x00\x00\x00\x00"),
        # Beyond the 64-bit range: float64 (notepack wraps these into a wrong uint64).
        (1e20, b"\xcb\x44\x15\xaf\x1d\x78\xb5\x8c\x40"),
        (2**64, b"\xcb\x43\xf0\x00\x00\x00\x00\x00\x00"),
        (-(2**63) - 1, b"\xcb\xc3\xe0\x00\x00\x00\x00\x00\x00"),
        (10**400, b"\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00"),
        (True, b"\xc3"),
        (False, b"\xc2"),
        (None, b"\xc0"),
    ],
)
def test_encode_numbers_as_notepack_does(value: Any, wire: bytes) -> None:
    (encoded,) = mp.encode(Packet(T.ACK, "/", [value], 0))
    assert encoded == b"\x84\xa4type\x03\xa4data\x91" + wire + b"\xa3nsp\xa1/\xa2id\x00"


@pytest.mark.parametrize(
    ("value", "prefix"),
    [
        ("", b"\xa0"),
        ("a" * 31, b"\xbf"),
        ("a" * 32, b"\xd9\x20"),
        ("a" * 255, b"\xd9\xff"),
        ("a" * 256, b"\xda\x01\x00"),
        ("a" * 65536, b"\xdb\x00\x01\x00\x00"),
        ("\U0001f600" * 8, b"\xd9\x20"),  # length counts UTF-8 bytes
        (b"", b"\xc4\x00"),
        (b"x" * 256, b"\xc5\x01\x00"),
        (b"x" * 65536, b"\xc6\x00\x01\x00\x00"),
        ([0] * 15, b"\x9f"),
        ([0] * 16, b"\xdc\x00\x10"),
        ([0] * 65536, b"\xdd\x00\x01\x00\x00"),
        ({f"k{i}": 0 for i in range(15)}, b"\x8f"),
        ({f"k{i}": 0 for i in range(16)}, b"\xde\x00\x10"),
    ],
)
def test_encode_picks_the_shortest_container_form(value: Any, prefix: bytes) -> None:
    (wire,) = mp.encode(Packet(T.ACK, "/", [value], 0))
    start = len(b"\x84\xa4type\x03\xa4data\x91")
    assert wire[start : start + len(prefix)] == prefix


@pytest.mark.parametrize("binary", [b"\x00\xff", bytearray(b"\x00\xff"), memoryview(b"\x00\xff")])
def test_encode_writes_every_bytes_like_as_bin(binary: Any) -> None:
    (wire,) = mp.encode(Packet(T.EVENT, "/", ["e", binary]))
    assert b"\xc4\x02\x00\xff" in wire
    assert mp.decode(wire).data == ["e", b"\x00\xff"]


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def test_encode_writes_enums_uuids_and_tuples_as_json_would() -> None:
    ident = uuid.UUID(int=1)
    (wire,) = mp.encode(Packet(T.EVENT, "/", ("e", Color.RED, Level.HIGH, ident, (1, 2))))
    assert mp.decode(wire).data == ["e", "red", 3, str(ident), [1, 2]]


def test_encode_writes_non_string_keys_as_json_would() -> None:
    (wire,) = mp.encode(Packet(T.EVENT, "/", ["e", {2: "a", 1.5: "b", True: "c", None: "d"}]))
    assert mp.decode(wire).data == ["e", {"2": "a", "1.5": "b", "true": "c", "null": "d"}]


def test_encode_replaces_lone_surrogates_with_the_replacement_character() -> None:
    (wire,) = mp.encode(Packet(T.EVENT, "/", ["e\ud800", {"\udfff": 1}]))
    assert mp.decode(wire).data == ["e\ufffd", {"\ufffd": 1}]


@pytest.mark.parametrize("value", [{1, 2}, object(), 1j, {(1, 2): 3}])
def test_encode_refuses_non_json_data_with_type_error(value: Any) -> None:
    with pytest.raises(TypeError):
        mp.encode(Packet(T.EVENT, "/", ["e", value]))


def test_encode_refuses_cyclic_data_with_type_error() -> None:
    cyclic: list[Any] = ["e"]
    cyclic.append(cyclic)
    with pytest.raises(TypeError):
        mp.encode(Packet(T.EVENT, "/", cyclic))


@pytest.mark.parametrize(
    "packet",
    [
        Packet(T.EVENT, "/", []),
        Packet(T.EVENT, "/", None),
        Packet(T.EVENT, "/", ["connect"]),
        Packet(T.EVENT, "/", [None]),
        Packet(T.EVENT, "/", {"a": 1}),
        Packet(T.ACK, "/", None, 1),
        Packet(T.CONNECT, "/", ["a"]),
        Packet(T.DISCONNECT, "/", {}),
        Packet(T.CONNECT_ERROR, "/", None),
        Packet(T.CONNECT_ERROR, "/", 3),
        Packet(T.EVENT, "chat", ["e"]),
        Packet(T.EVENT, "", ["e"]),
        Packet(T.EVENT, "/", ["e"], -1),
        Packet(T.EVENT, "/", ["e"], 2**53),
        Packet(T.EVENT, "/", ["e"], True),
        Packet(T.CONNECT, "/", None, 1),
        Packet(7, "/", ["e"]),  # type: ignore[arg-type]
        Packet(True, "/", ["e"]),  # type: ignore[arg-type]
    ],
)
def test_encode_refuses_packets_a_receiver_would_reject(packet: Packet) -> None:
    with pytest.raises(ValueError, match="cannot encode packet"):
        mp.encode(packet)


def test_encode_accepts_numeric_event_names_and_plain_int_types() -> None:
    (wire,) = mp.encode(Packet(2, "/", [1, "x"], 0))  # type: ignore[arg-type]
    assert mp.decode(wire) == Packet(T.EVENT, "/", [1, "x"], 0)


# --------------------------------------------------------------------------- decoding


def test_decode_reads_a_packet() -> None:
    wire = packed(type=2, data=["hi", {"a": b"\x01"}], nsp="/chat", id=2**53 - 1)
    assert mp.decode(wire) == Packet(T.EVENT, "/chat", ["hi", {"a": b"\x01"}], 2**53 - 1)


def test_decode_ignores_unknown_keys_like_the_js_client_options() -> None:
    # socket.io-client sends {type, data, options: {compress: true}, id, nsp}
    wire = packed(type=2, data=["e"], options={"compress": True}, id=0, nsp="/")
    assert mp.decode(wire) == Packet(T.EVENT, "/", ["e"], 0)


def test_decode_treats_undefined_data_as_absent() -> None:
    # socket.io-client's CONNECT without auth is {type: 0, data: undefined, nsp: "/"}
    wire = raw_map((s("type"), b"\x00"), (s("data"), UNDEFINED), (s("nsp"), s("/")))
    assert mp.decode(wire) == Packet(T.CONNECT, "/")


def test_decode_treats_undefined_id_as_absent() -> None:
    wire = raw_map(
        (s("type"), b"\x02"),
        (s("data"), b"\x91" + s("e")),
        (s("nsp"), s("/")),
        (s("id"), UNDEFINED),
    )
    assert mp.decode(wire) == Packet(T.EVENT, "/", ["e"])


def test_decode_reads_undefined_as_json_does() -> None:
    # JSON.stringify: undefined is null in an array and left out of an object.
    item = b"\x93" + UNDEFINED + b"\x82" + s("a") + UNDEFINED + s("b") + b"\x01" + b"\x01"
    assert mp.decode(event_bytes(item)).data == ["e", [None, {"b": 1}, 1]]


def test_decode_reads_an_array_buffer_ext_as_bytes() -> None:
    for wire in (b"\xc7\x03\x00abc", b"\xc7\x01\x00a", b"\xc7\x08\x00" + b"8" * 8, b"\xc7\x00\x00"):
        payload = wire[3:]
        assert mp.decode(event_bytes(wire)).data == ["e", payload]
    assert mp.decode(event_bytes(b"\xc8\x00\x02\x00ab")).data == ["e", b"ab"]
    assert mp.decode(event_bytes(b"\xc9\x00\x00\x00\x10\x00" + b"z" * 16)).data == ["e", b"z" * 16]


@pytest.mark.parametrize(
    ("millis", "iso"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
        (-62_167_219_200_001, "-000001-12-31T23:59:59.999Z"),
        (253_402_300_800_000, "+010000-01-01T00:00:00.000Z"),
        (8_640_000_000_000_000, "+275760-09-13T00:00:00.000Z"),
        (-8_640_000_000_000_000, "-271821-04-20T00:00:00.000Z"),
        (8_640_000_000_000_001, None),
    ],
)
def test_decode_reads_a_date_as_its_json_string(millis: int, iso: str | None) -> None:
    ext = b"\xd7\x00" + millis.to_bytes(8, "big", signed=True)
    assert mp.decode(event_bytes(ext)).data == ["e", iso]


@pytest.mark.parametrize(
    "ext",
    [
        b"\xd4\x01\x00",  # fixext 1, type 1
        b"\xd5\x00\x00\x00",  # fixext 2, type 0: notepack gives [0, <Buffer>]
        b"\xd6\x00" + b"\x00" * 4,
        b"\xd8\x00" + b"\x00" * 16,
        b"\xd7\x05" + b"\x00" * 8,
        b"\xc7\x02\x07ab",  # ext 8 of type 7
        b"\xd6\xff\x00\x00\x00\x01",  # msgpack timestamp
        b"\xc7\x0c\xff" + b"\x00" * 12,
        b"\xc7\x03\xff\x00\x00\x00",  # a timestamp of a bad length
    ],
)
def test_decode_refuses_other_extension_types(ext: bytes) -> None:
    with pytest.raises(InvalidPacket):
        mp.decode(event_bytes(ext))


def test_decode_replaces_invalid_utf8_as_node_does() -> None:
    assert mp.decode(event_bytes(b"\xa3a\xffb")).data == ["e", "a\ufffdb"]
    # the same through the pure-Python path (an undefined value forces it)
    item = b"\x92\xa3a\xffb" + UNDEFINED
    assert mp.decode(event_bytes(item)).data == ["e", ["a\ufffdb", None]]


@pytest.mark.parametrize(
    "wire",
    [
        packed(type=1, nsp="/"),
        packed(type=0, nsp="/", data={"token": "x"}),
        packed(type=4, nsp="/", data="not allowed"),
        packed(type=4, nsp="/", data={"message": "no"}),
        packed(type=3, nsp="/", data=[], id=0),
        packed(type=3, nsp="/", data=[]),  # the parser leaves a missing ACK id to the socket
        packed(type=2, nsp="/", data=[1.5, "x"]),
        packed(type=2, nsp="/a,b", data=["e"]),  # a comma is fine: msgpack needs no separator
    ],
)
def test_decode_accepts_valid_packets(wire: bytes) -> None:
    assert isinstance(mp.decode(wire), Packet)


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        (b"", "truncated"),
        (b"\xc1", "format"),
        (packed(type=2, data=["e"], nsp="/") + b"\x00", "trailing"),
        (packed(type=2, data=["e"], nsp="/")[:-1], "truncated"),
        (msgpack_lib.packb([2, ["e"], "/"]), "not a msgpack map"),
        (msgpack_lib.packb(2), "not a msgpack map"),
        (msgpack_lib.packb(None), "not a msgpack map"),
        (packed(data=["e"], nsp="/"), "type"),
        (packed(type=5, data=["e"], nsp="/"), "type"),
        (packed(type=6, data=[], nsp="/", id=1), "type"),
        (packed(type=-1, data=["e"], nsp="/"), "type"),
        (packed(type=True, data=["e"], nsp="/"), "type"),
        (packed(type=2.0, data=["e"], nsp="/"), "type"),
        (packed(type="2", data=["e"], nsp="/"), "type"),
        (packed(type=2, data=["e"]), "namespace"),
        (packed(type=2, data=["e"], nsp=None), "namespace"),
        (packed(type=2, data=["e"], nsp="chat"), "namespace"),
        (packed(type=2, data=["e"], nsp=""), "namespace"),
        (packed(type=2, data=["e"], nsp=b"/"), "namespace"),
        (packed(type=2, nsp="/"), "payload"),
        (packed(type=2, data=None, nsp="/"), "payload"),
        (packed(type=2, data=[], nsp="/"), "payload"),
        (packed(type=2, data={"0": "e"}, nsp="/"), "payload"),
        (packed(type=2, data="e", nsp="/"), "payload"),
        (packed(type=2, data=[None], nsp="/"), "event name"),
        (packed(type=2, data=[True], nsp="/"), "event name"),
        (packed(type=2, data=[["a"]], nsp="/"), "event name"),
        (packed(type=2, data=[{"toString": "x"}], nsp="/"), "event name"),
        (packed(type=3, nsp="/", id=1), "payload"),
        (packed(type=3, data={}, nsp="/", id=1), "payload"),
        (packed(type=0, data=[], nsp="/"), "payload"),
        (packed(type=0, data="tok", nsp="/"), "payload"),
        (packed(type=0, data=None, nsp="/"), "payload"),
        (packed(type=1, data={}, nsp="/"), "payload"),
        (packed(type=1, data=None, nsp="/"), "payload"),
        (packed(type=4, nsp="/"), "payload"),
        (packed(type=4, data=None, nsp="/"), "payload"),
        (packed(type=4, data=["x"], nsp="/"), "payload"),
        (packed(type=2, data=["e"], nsp="/", id=-1), "ack id"),
        (packed(type=2, data=["e"], nsp="/", id=2**53), "ack id"),
        (packed(type=2, data=["e"], nsp="/", id=1.0), "ack id"),
        (packed(type=2, data=["e"], nsp="/", id=True), "ack id"),
        (packed(type=2, data=["e"], nsp="/", id="1"), "ack id"),
        (packed(type=2, data=["e"], nsp="/", id=None), "ack id"),
        (packed(type=0, nsp="/", id=1), "carry no ack id"),
        (packed(type=1, nsp="/", id=1), "carry no ack id"),
        (packed(type=4, data="x", nsp="/", id=1), "carry no ack id"),
        (b"\x84\xa4type\x02\xa4data\x91\xa1e\xa3nsp\xa1/\x01\x01", "keys must be strings"),
        (packed(type=2, data=["e", {b"k": 1}], nsp="/"), "keys must be strings"),
        (raw_map((s("type"), b"\x02"), (s("data"), UNDEFINED), (s("nsp"), s("/"))), "payload"),
    ],
)
def test_decode_rejects_invalid_packets(wire: bytes, reason: str) -> None:
    with pytest.raises(InvalidPacket, match=reason):
        mp.decode(wire)


@pytest.mark.parametrize("name", sorted(RESERVED_EVENTS))
def test_decode_rejects_reserved_event_names(name: str) -> None:
    with pytest.raises(InvalidPacket, match="event name"):
        mp.decode(packed(type=2, data=[name, 1], nsp="/"))


def test_decode_rejects_keys_that_are_not_strings_in_the_python_path_too() -> None:
    item = b"\x82\xa1b" + UNDEFINED + b"\x01\x01"
    with pytest.raises(InvalidPacket, match="keys must be strings"):
        mp.decode(event_bytes(item))
    with pytest.raises(InvalidPacket, match="keys must be strings"):
        mp.decode(event_bytes(b"\x81" + UNDEFINED + b"\x01"))


def test_decode_rejects_duplicate_map_keys_in_both_paths() -> None:
    duplicate_type = b"\x84\xa4type\x02\xa4data\x91\xa1e\xa3nsp\xa1/\xa4type\x00"
    with pytest.raises(InvalidPacket, match="duplicate map key"):
        mp.decode(duplicate_type)
    for item in (b"\x82\xa1a\x01\xa1a" + UNDEFINED, b"\x82\xa1a" + UNDEFINED + b"\xa1a\x01"):
        with pytest.raises(InvalidPacket, match="duplicate map key"):
            mp.decode(event_bytes(item))


def nested(depth: int, leaf: bytes = b"\xc0") -> bytes:
    """["e", [[...[leaf]...]]] where the data list is level 1 and the total depth is ``depth``."""
    return b"\x92" + s("e") + b"\x91" * (depth - 1) + leaf


@pytest.mark.parametrize("leaf", [b"\xc0", UNDEFINED], ids=["c-extension", "python-path"])
def test_decode_enforces_the_depth_limit(leaf: bytes) -> None:
    def wire(depth: int) -> bytes:
        return raw_map((s("type"), b"\x02"), (s("data"), nested(depth, leaf)), (s("nsp"), s("/")))

    assert mp.decode(wire(32)).type is T.EVENT
    with pytest.raises(InvalidPacket, match="nested deeper than 32"):
        mp.decode(wire(33))
    decoder = mp.Decoder(max_depth=3)
    assert decoder.feed(wire(3))[0].type is T.EVENT
    with pytest.raises(InvalidPacket, match="nested deeper than 3"):
        decoder.feed(wire(4))
    with pytest.raises(InvalidPacket):
        mp.decode(wire(5000))


def test_decoder_refuses_text_messages() -> None:
    with pytest.raises(InvalidPacket, match="binary"):
        mp.Decoder().feed('2["e"]')


def test_decoder_feed_returns_one_packet_per_message() -> None:
    decoder = mp.Decoder()
    (wire,) = mp.encode(Packet(T.EVENT, "/", ["e", b"\x01"], 4))
    assert decoder.feed(wire) == [Packet(T.EVENT, "/", ["e", b"\x01"], 4)]
    assert decoder.feed(bytearray(wire)) == decoder.feed(memoryview(wire))


def test_decoder_enforces_max_size_on_the_message() -> None:
    (wire,) = mp.encode(Packet(T.EVENT, "/", ["e", "x" * 100]))
    assert mp.Decoder(max_size=len(wire)).feed(wire)
    with pytest.raises(PayloadTooLarge) as info:
        mp.Decoder(max_size=len(wire) - 1).feed(wire)
    assert info.value.http_status == 413
    assert info.value.ws_close_code == 1009


@pytest.mark.parametrize("options", [{"max_depth": 0}, {"max_depth": 201}, {"max_size": 0}])
def test_decoder_refuses_bad_limits(options: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        mp.Decoder(**options)


def test_decode_of_a_non_bytes_value_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        mp.decode(5)  # type: ignore[arg-type]


def test_decode_keeps_64_bit_integers_exact() -> None:
    wire = packed(type=2, data=["e", 2**64 - 1, -(2**63)], nsp="/")
    assert mp.decode(wire).data == ["e", 2**64 - 1, -(2**63)]


def test_decode_reads_float32_and_non_finite_floats() -> None:
    item = b"\x93\xca\x3f\xc0\x00\x00\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00\xcb\xff\xf0" + b"\x00" * 6
    data = mp.decode(event_bytes(item)).data
    assert data[1][0] == 1.5
    assert math.isnan(data[1][1])
    assert data[1][2] == float("-inf")


@pytest.mark.parametrize(
    "wire",
    [
        b"\xdd\xff\xff\xff\xff",  # array32 announcing 4 billion items
        b"\xdf\xff\xff\xff\xff",
        b"\xdb\xff\xff\xff\xff",
        b"\xc6\xff\xff\xff\xff",
        b"\x82\xa1a" + UNDEFINED + b"\xa4data\xdd\xff\xff\xff\xff",  # in the Python path
    ],
)
def test_decode_rejects_huge_announced_lengths_at_once(wire: bytes) -> None:
    start = time.perf_counter()
    with pytest.raises(InvalidPacket):
        mp.decode(wire)
    assert time.perf_counter() - start < 0.05


def test_decode_of_a_large_flat_message_is_fast() -> None:
    count = 300_000
    for last in (b"\xc0", UNDEFINED):  # the C path, then the Python path
        items = b"\xdd" + count.to_bytes(4, "big") + b"\xc0" * (count - 1) + last
        wire = raw_map((s("type"), b"\x03"), (s("data"), items), (s("nsp"), s("/")))
        start = time.perf_counter()
        assert len(mp.decode(wire).data) == count
        assert time.perf_counter() - start < 2.0


# --------------------------------------------------------------------------- properties

keys = st.text(max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=40)
    | st.binary(max_size=40)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=20,
)
namespaces = st.just("/") | st.text(max_size=10).map(lambda n: "/" + n)
event_names = st.text(max_size=10).filter(lambda n: n not in RESERVED_EVENTS) | st.integers(0, 10)
ack_ids = st.integers(0, 2**53 - 1)


@st.composite
def packets(draw: st.DrawFn) -> Packet:
    kind = draw(st.sampled_from(list(PacketType)))
    nsp = draw(namespaces)
    if kind is T.CONNECT:
        return Packet(kind, nsp, draw(st.none() | st.dictionaries(keys, values, max_size=4)))
    if kind is T.DISCONNECT:
        return Packet(kind, nsp)
    if kind is T.CONNECT_ERROR:
        return Packet(kind, nsp, draw(st.text() | st.dictionaries(keys, values, max_size=4)))
    args = draw(st.lists(values, max_size=5))
    ack_id = draw(st.none() | ack_ids)
    if kind in (T.EVENT, T.BINARY_EVENT):
        return Packet(kind, nsp, [draw(event_names), *args], ack_id)
    return Packet(kind, nsp, args, ack_id)


def same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN (and 1.0 equals 1, as it does for JavaScript)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)


def surrogate_free(value: Any) -> Any:
    if isinstance(value, str):
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    if isinstance(value, list):
        return [surrogate_free(v) for v in value]
    if isinstance(value, dict):
        return {surrogate_free(k): surrogate_free(v) for k, v in value.items()}
    return value


@given(packet=packets())
def test_decode_of_encode_gives_the_packet_back(packet: Packet) -> None:
    (wire,) = mp.encode(packet)
    decoded = mp.Decoder(max_depth=200).feed(wire)[0]
    plain = {T.BINARY_EVENT: T.EVENT, T.BINARY_ACK: T.ACK}.get(packet.type, packet.type)
    assert decoded.type is plain
    assert decoded.nsp == surrogate_free(packet.nsp)
    assert decoded.id == packet.id
    assert same(decoded.data, surrogate_free(packet.data))


@given(packet=packets())
def test_encoding_is_stable_across_a_round_trip(packet: Packet) -> None:
    (wire,) = mp.encode(packet)
    assert mp.encode(mp.decode(wire, max_depth=200))[0] == wire


def check_total(wire: bytes) -> None:
    try:
        result = mp.decode(wire)
    except ProtocolError:
        return
    assert isinstance(result, Packet)


@settings(max_examples=300)
@given(wire=st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_protocol_errors(wire: bytes) -> None:
    check_total(wire)


@st.composite
def mutated_packets(draw: st.DrawFn) -> bytes:
    """A valid encoding with a few bytes replaced, inserted or removed."""
    wire = bytearray(mp.encode(draw(packets()))[0])
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(wire)))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.integers(0, 255))
        if action == "replace" and position < len(wire):
            wire[position] = byte
        elif action == "insert":
            wire.insert(position, byte)
        elif position < len(wire):
            del wire[position]
    return bytes(wire)


@settings(max_examples=300)
@given(wire=mutated_packets())
def test_mutated_packets_decode_or_raise_protocol_errors(wire: bytes) -> None:
    check_total(wire)


@settings(max_examples=300)
@given(wire=mutated_packets())
def test_the_c_and_python_decoding_paths_agree(wire: bytes) -> None:
    """The pure-Python reader (used when an ext's format byte matters) matches the C path."""

    def outcome(decode: Any) -> Any:
        try:
            return ("ok", decode())
        except InvalidPacket:
            return ("error", None)

    try:
        fast = outcome(lambda: mp._unpack_fast(wire, 32))
    except mp._AmbiguousExt:
        return  # only the Python path can read this one
    slow = outcome(lambda: mp._Reader(wire, 32).document())
    if fast[0] == "ok" or slow[0] == "ok":
        assert fast[0] == slow[0]
        assert same(fast[1], slow[1])
