"""siox.parser.msgpack against npm socket.io-msgpack-parser 3.0.2 (notepack.io 2.2), through Node.

Both directions on hypothesis-generated packets, identical bytes where notepack is deterministic
and right, what JavaScript clients really send (undefined, Date, ArrayBuffer, the client's extra
``options`` key), and a corpus of bad inputs: siox rejects everything npm rejects.

Differences these tests pin down (siox's side is the one kept, see the module docstring of
siox.parser.msgpack):

* notepack writes an integral number beyond the 64-bit range (``1e20``) as a wrapped, wrong
  uint64; siox writes float64.
* An integer above 2**53 is exact in siox and rounded in JavaScript (on both encode and decode).
* JavaScript enumerates integer-like keys (``"1"``) first, so such a dict encodes in a different
  key order than npm would re-encode it (the decoded values are equal).
* A ``"__proto__"`` key is kept by siox; notepack's decoder turns it into the object's
  prototype, so npm loses it.
* npm accepts what siox refuses on purpose: types/ids that are floats, negative or > 2**53-1
  ids, ids on CONNECT/DISCONNECT/CONNECT_ERROR, namespaces not starting with "/", empty or
  reserved or non-string/number event names, non-string or duplicate map keys, msgpack
  extension types
  other than notepack's undefined/ArrayBuffer/Date, and text messages.
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgpack as msgpack_lib
import pytest
from hypothesis import given, settings, strategies as st

from siox.errors import InvalidPacket, ProtocolError
from siox.parser import Packet, PacketType, msgpack as mp
from siox.parser.packet import RESERVED_EVENTS

pytestmark = pytest.mark.interop

T = PacketType
INDEX_KEY = re.compile(r"0|[1-9][0-9]*")
UNDEFINED = b"\xd4\x00\x00"


def js_ordered_key(key: str) -> bool:
    """Keys JavaScript keeps in insertion order (not array indexes) and stores normally."""
    return key != "__proto__" and not (INDEX_KEY.fullmatch(key) and int(key) < 2**32 - 1)


def surrogate_free(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


text = st.text(st.characters(codec="utf-8"), max_size=12)
keys = text.filter(js_ordered_key)
floats = st.floats().filter(lambda f: not f.is_integer() or -(2**63) <= f < 2**64)
# Values that reach notepack unchanged through the JSON envelope (ints within 2**53).
comparable_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | floats
    | text
    | st.binary(max_size=24)
)
# Everything siox can send, including values JavaScript can only approximate.
any_scalars = (
    comparable_scalars
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=8)  # lone surrogates included
)


def values(scalars: st.SearchStrategy[Any], key: st.SearchStrategy[str] = keys) -> Any:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(key, inner, max_size=4),
        max_leaves=10,
    )


@st.composite
def packets(draw: st.DrawFn, scalars: st.SearchStrategy[Any], binary_types: bool = False) -> Packet:
    choices = list(PacketType) if binary_types else list(PacketType)[:5]
    kind = draw(st.sampled_from(choices))
    nsp = draw(st.just("/") | text.map(lambda n: "/" + n))
    data = values(scalars)
    if kind is T.CONNECT:
        return Packet(kind, nsp, draw(st.none() | st.dictionaries(keys, data, max_size=4)))
    if kind is T.DISCONNECT:
        return Packet(kind, nsp)
    if kind is T.CONNECT_ERROR:
        return Packet(kind, nsp, draw(text | st.dictionaries(keys, data, max_size=4)))
    args = draw(st.lists(data, max_size=4))
    ack_id = draw(st.none() | st.integers(0, 2**53 - 1) | st.sampled_from([0, 2**53 - 1]))
    if kind in (T.EVENT, T.BINARY_EVENT):
        name = draw(text.filter(lambda n: n not in RESERVED_EVENTS) | st.integers(0, 99))
        return Packet(kind, nsp, [name, *args], ack_id)
    return Packet(kind, nsp, args, ack_id)


def as_js(value: Any) -> Any:
    """``value`` as JavaScript holds it after decoding what siox sent."""
    if isinstance(value, str):
        return value if surrogate_free(value) else re.sub("[\ud800-\udfff]", "\ufffd", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return (
            value
            if abs(value) <= 2**53
            else float(value)
            if value.bit_length() < 1024
            else (math.inf if value > 0 else -math.inf)
        )
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [as_js(v) for v in value]
    if isinstance(value, dict):
        return {as_js(k): as_js(v) for k, v in value.items()}
    return value


def same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN and bool never equals a number."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)


def same_packet(a: Packet | dict[str, Any] | None, b: Packet | dict[str, Any] | None) -> bool:
    if not isinstance(a, Packet) or not isinstance(b, Packet):
        return False
    return a.type == b.type and a.nsp == b.nsp and a.id == b.id and same(a.data, b.data)


def plain(packet: Packet) -> Packet:
    ptype = {T.BINARY_EVENT: T.EVENT, T.BINARY_ACK: T.ACK}.get(packet.type, packet.type)
    return Packet(ptype, packet.nsp, packet.data, packet.id)


BATCH = st.lists(packets(comparable_scalars), min_size=1, max_size=25)


@settings(max_examples=15)
@given(batch=BATCH)
def test_siox_encodes_the_same_bytes_as_npm(sio_oracle: Any, batch: list[Packet]) -> None:
    npm = sio_oracle.encode_msgpack(batch)
    for packet, expected in zip(batch, npm, strict=True):
        assert mp.encode(packet) == [expected], packet


@settings(max_examples=15)
@given(batch=st.lists(packets(any_scalars, binary_types=True), min_size=1, max_size=25))
def test_npm_decodes_what_siox_encodes(sio_oracle: Any, batch: list[Packet]) -> None:
    results = sio_oracle.decode_msgpack([mp.encode(p)[0] for p in batch])
    for packet, (decoded, error) in zip(batch, results, strict=True):
        assert error is None, (packet, error)
        want = plain(packet)
        want = Packet(want.type, as_js(want.nsp), as_js(want.data), want.id)
        assert same_packet(decoded, want), (packet, decoded)


@settings(max_examples=15)
@given(batch=BATCH)
def test_siox_decodes_what_npm_encodes(sio_oracle: Any, batch: list[Packet]) -> None:
    for packet, wire in zip(batch, sio_oracle.encode_msgpack(batch), strict=True):
        assert same_packet(mp.decode(wire), packet), packet


DATES = [
    0, -1, 951_782_400_000, -62_167_219_200_000, -62_167_219_200_001, 253_402_300_800_000,
    8_640_000_000_000_000, -8_640_000_000_000_000, 4_107_542_400_000, -2_208_988_800_001,
]  # fmt: skip


def test_siox_reads_what_javascript_clients_send(sio_oracle: Any) -> None:
    raw = sio_oracle.raw
    undefined = raw({"$undef": True})
    js_packets: list[dict[str, Any]] = [
        # socket.io-client: CONNECT without auth, EVENT with its options key and an ack id
        {"type": 0, "data": undefined, "nsp": "/"},
        {"type": 2, "data": ["e", 1], "options": {"compress": True}, "id": 4, "nsp": "/chat"},
        {"type": 3, "id": 4, "data": [], "nsp": "/"},
        {"type": 2, "data": ["e", raw([{"$undef": True}, {"a": {"$undef": True}, "b": 1}])],
         "nsp": "/"},
        {"type": 2, "data": ["e", raw({"$date": 1_700_000_000_123})], "nsp": "/"},
        {"type": 2, "data": ["e", *[raw({"$date": ms}) for ms in DATES]], "nsp": "/"},
        {"type": 2, "data": ["e", raw({"$ab": "AAEC"}), raw({"$u8": "/w=="})], "nsp": "/"},
        {"type": 2, "data": ["e", raw({"$ab": ""}), raw({"$ab": "AAAAAAAAAAA="})], "nsp": "/"},
        {"type": 2, "data": ["e", raw({"$num": "NaN"}), raw({"$num": "-Infinity"})], "nsp": "/"},
        {"type": 2, "data": ["e", raw({"$num": "-0"}), 1.0, 0.1], "nsp": "/"},
    ]  # fmt: skip
    wires = sio_oracle.encode_msgpack(js_packets)
    npm = sio_oracle.decode_msgpack(wires)
    for wire, (npm_packet, error) in zip(wires, npm, strict=True):
        assert error is None
        assert same_packet(mp.decode(wire), npm_packet), (wire, npm_packet)
    assert mp.decode(wires[0]) == Packet(T.CONNECT)
    assert mp.decode(wires[3]).data == ["e", [None, {"b": 1}]]
    assert mp.decode(wires[4]).data == ["e", "2023-11-14T22:13:20.123Z"]
    assert mp.decode(wires[6]).data == ["e", b"\x00\x01\x02", b"\xff"]


def test_notepack_mangles_integral_numbers_beyond_64_bits(sio_oracle: Any) -> None:
    packet = Packet(T.EVENT, "/", ["e", 1e20, -1e20])
    (npm_wire,) = sio_oracle.encode_msgpack([packet])
    assert mp.decode(npm_wire).data != ["e", 1e20, -1e20]  # notepack's bug, not ours
    ((decoded, _),) = sio_oracle.decode_msgpack(mp.encode(packet))
    assert decoded == packet


def test_integers_beyond_2_53_are_rounded_by_javascript(sio_oracle: Any) -> None:
    packet = Packet(T.EVENT, "/", ["e", 2**53 + 1, 2**64 - 1, -(2**63) + 1])
    ((decoded, _),) = sio_oracle.decode_msgpack(mp.encode(packet))
    assert decoded == Packet(T.EVENT, "/", ["e", 2**53, 2**64, -(2**63)])
    assert mp.decode(mp.encode(packet)[0]) == packet  # siox keeps them exact


def test_integer_like_keys_change_the_byte_order_only(sio_oracle: Any) -> None:
    packet = Packet(T.EVENT, "/", ["e", {"b": 1, "1": 2}])
    (npm_wire,) = sio_oracle.encode_msgpack([packet])
    assert npm_wire != mp.encode(packet)[0]
    assert mp.decode(npm_wire) == packet
    assert sio_oracle.decode_msgpack(mp.encode(packet)) == [(packet, None)]


def test_npm_loses_a_proto_key_that_siox_keeps(sio_oracle: Any) -> None:
    packet = Packet(T.EVENT, "/", ["e", {"__proto__": {"x": 1}, "y": 2}])
    (wire,) = mp.encode(packet)
    ((decoded, _),) = sio_oracle.decode_msgpack([wire])
    assert decoded == Packet(T.EVENT, "/", ["e", {"y": 2}])
    assert mp.decode(wire) == packet


@settings(max_examples=20)
@given(batch=st.lists(st.binary(max_size=12), min_size=1, max_size=30))
def test_invalid_utf8_is_replaced_as_node_replaces_it(sio_oracle: Any, batch: list[bytes]) -> None:
    wires = []
    for raw_text in batch:
        item = bytes([0xD9, len(raw_text)]) + raw_text
        for tail in (b"", UNDEFINED):  # the C path, then the Python path
            array = bytes([0x92 if tail else 0x91]) + item + tail
            wires.append(b"\x83\xa4type\x03\xa4data" + array + b"\xa3nsp\xa1/")
    for wire, (npm_packet, error) in zip(wires, sio_oracle.decode_msgpack(wires), strict=True):
        assert error is None
        assert mp.decode(wire) == npm_packet, wire


def packed(**fields: Any) -> bytes:
    return bytes(msgpack_lib.packb(fields, use_bin_type=True))


def event_with(item: bytes) -> bytes:
    return b"\x83\xa4type\x02\xa4data\x92\xa1e" + item + b"\xa3nsp\xa1/"


# label -> message. "strict" marks the inputs siox refuses on purpose while npm takes them.
BAD_INPUTS: dict[str, tuple[bytes, bool]] = {
    "empty": (b"", False),
    "reserved format byte": (b"\xc1", False),
    "trailing byte": (packed(type=2, data=["e"], nsp="/") + b"\x00", False),
    "truncated": (packed(type=2, data=["e"], nsp="/")[:-1], False),
    "truncated str": (b"\x83\xa4type\x02\xa4data\x92\xa1e\xa5ab", False),
    "not a map": (msgpack_lib.packb([2, ["e"], "/"]), False),
    "nil": (b"\xc0", False),
    "number": (b"\x05", False),
    "no type": (packed(data=["e"], nsp="/"), False),
    "type 5": (packed(type=5, data=["e"], nsp="/"), False),
    "type 6": (packed(type=6, data=[], nsp="/", id=1), False),
    "type -1": (packed(type=-1, data=["e"], nsp="/"), False),
    "type true": (packed(type=True, data=["e"], nsp="/"), False),
    "type 2.0": (packed(type=2.0, data=["e"], nsp="/"), True),
    "type 2.5": (packed(type=2.5, data=["e"], nsp="/"), False),
    "type '2'": (packed(type="2", data=["e"], nsp="/"), False),
    "no nsp": (packed(type=2, data=["e"]), False),
    "nsp nil": (packed(type=2, data=["e"], nsp=None), False),
    "nsp bin": (packed(type=2, data=["e"], nsp=b"/"), False),
    "nsp without slash": (packed(type=2, data=["e"], nsp="chat"), True),
    "nsp empty": (packed(type=2, data=["e"], nsp=""), True),
    "event without data": (packed(type=2, nsp="/"), False),
    "event data nil": (packed(type=2, data=None, nsp="/"), False),
    "event data map": (packed(type=2, data={"0": "e"}, nsp="/"), False),
    "event data str": (packed(type=2, data="e", nsp="/"), False),
    "event empty": (packed(type=2, data=[], nsp="/"), True),
    "event name nil": (packed(type=2, data=[None], nsp="/"), True),
    "event name true": (packed(type=2, data=[True, "x"], nsp="/"), True),
    "event name list": (packed(type=2, data=[["a"], 1], nsp="/"), True),
    "event name map": (packed(type=2, data=[{"toString": "foo"}], nsp="/"), True),
    **{
        f"event name {name}": (packed(type=2, data=[name], nsp="/"), True)
        for name in sorted(RESERVED_EVENTS)
    },
    "ack without data": (packed(type=3, nsp="/", id=1), False),
    "ack data map": (packed(type=3, data={}, nsp="/", id=1), False),
    "connect data list": (packed(type=0, data=["a"], nsp="/"), False),
    "connect data str": (packed(type=0, data="tok", nsp="/"), False),
    "connect data number": (packed(type=0, data=123, nsp="/chat"), False),
    "connect data nil": (packed(type=0, data=None, nsp="/"), False),
    "disconnect with data": (packed(type=1, data={}, nsp="/"), False),
    "disconnect data nil": (packed(type=1, data=None, nsp="/"), False),
    "connect_error without data": (packed(type=4, nsp="/"), False),
    "connect_error data list": (packed(type=4, data=["x"], nsp="/"), False),
    "connect_error data nil": (packed(type=4, data=None, nsp="/"), False),
    "id -1": (packed(type=2, data=["e"], nsp="/", id=-1), True),
    "id 2**53": (packed(type=2, data=["e"], nsp="/", id=2**53), True),
    "id 1.0": (packed(type=2, data=["e"], nsp="/", id=1.0), True),
    "id 1.5": (packed(type=2, data=["e"], nsp="/", id=1.5), False),
    "id true": (packed(type=2, data=["e"], nsp="/", id=True), False),
    "id '1'": (packed(type=2, data=["e"], nsp="/", id="1"), False),
    "id nil": (packed(type=2, data=["e"], nsp="/", id=None), False),
    "id on connect": (packed(type=0, nsp="/", id=1), True),
    "id on disconnect": (packed(type=1, nsp="/", id=1), True),
    "int map key": (event_with(b"\x81\x01\x01"), True),
    "bin map key": (event_with(b"\x81\xc4\x01k\x01"), True),
    "nil map key at top": (b"\x84\xa4type\x02\xa4data\x91\xa1e\xa3nsp\xa1/\xc0\x01", True),
    "fixext 1 type 1": (event_with(b"\xd4\x01\x00"), True),
    "fixext 2 type 0": (event_with(b"\xd5\x00\x00\x00"), True),
    "fixext 16 type 0": (event_with(b"\xd8\x00" + b"\x00" * 16), True),
    "ext 8 type 7": (event_with(b"\xc7\x02\x07ab"), True),
    "timestamp": (event_with(b"\xd6\xff\x00\x00\x00\x01"), True),
    "duplicate type key": (b"\x84\xa4type\x00\xa4data\x91\xa1e\xa3nsp\xa1/\xa4type\x02", True),
    "duplicate data key": (event_with(b"\x82\xa1a\x01\xa1a\x02"), True),
    "huge array": (b"\xdd\xff\xff\xff\xff", False),
    "huge map": (b"\xdf\xff\xff\xff\xff", False),
    "huge str": (event_with(b"\xdb\xff\xff\xff\xff"), False),
    "huge bin": (event_with(b"\xc6\xff\xff\xff\xff"), False),
    "too deep": (event_with(b"\x91" * 40 + b"\xc0"), True),
}


def test_siox_rejects_everything_npm_rejects(sio_oracle: Any) -> None:
    labels = list(BAD_INPUTS)
    results = sio_oracle.decode_msgpack([BAD_INPUTS[label][0] for label in labels])
    for label, (_, error) in zip(labels, results, strict=True):
        wire, stricter = BAD_INPUTS[label]
        with pytest.raises(InvalidPacket):
            mp.decode(wire)
        # Document which side accepts: npm takes exactly the "stricter" ones.
        assert (error is None) == stricter, (label, error)
    with pytest.raises(InvalidPacket):
        mp.Decoder().feed("2")  # a text message; npm's decoder throws on strings too


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    wire = bytearray(mp.encode(draw(packets(comparable_scalars)))[0])
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(wire)))
        byte = draw(st.integers(0, 255))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        if action == "insert":
            wire.insert(position, byte)
        elif position < len(wire):
            if action == "replace":
                wire[position] = byte
            else:
                del wire[position]
    return bytes(wire)


def js_number_view(value: Any) -> Any:
    """What a decoded value is to JavaScript (integers beyond 2**53 rounded)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return float(value)
    if isinstance(value, list):
        return [js_number_view(v) for v in value]
    if isinstance(value, dict):
        return {k: js_number_view(v) for k, v in value.items()}
    return value


@settings(max_examples=20)
@given(batch=st.lists(mutated(), min_size=1, max_size=40))
def test_mutated_messages_npm_rejects_are_rejected_and_the_rest_agree(
    sio_oracle: Any, batch: list[bytes]
) -> None:
    for wire, (npm_packet, error) in zip(batch, sio_oracle.decode_msgpack(batch), strict=True):
        try:
            packet = mp.decode(wire)
        except ProtocolError:
            continue  # siox may be stricter; everything npm refuses lands here
        assert error is None, (wire, error)
        view = Packet(packet.type, packet.nsp, js_number_view(packet.data), packet.id)
        assert same_packet(view, npm_packet), (wire, packet, npm_packet)
