"""The classic cluster wire format, without Redis: what goes out comes back, what is bad is refused."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given, strategies as st

from siox.adapters import BroadcastOptions
from siox.adapters.wire import (
    WireError,
    check_data,
    decode_broadcast,
    decode_message,
    encode_broadcast,
    options_from_wire,
    options_to_wire,
)
from siox.parser import Packet, PacketType

payloads = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
rooms = st.frozensets(st.text(min_size=1, max_size=8), max_size=3)


@given(st.lists(payloads, max_size=4), rooms, rooms, st.booleans())
def test_a_broadcast_comes_back_as_it_went_out(
    args: list[Any], to: frozenset[str], but: frozenset[str], volatile: bool
) -> None:
    packet = Packet(PacketType.EVENT, "/chat", ["ev", *args])
    opts = BroadcastOptions(rooms=to, except_rooms=but, volatile=volatile)
    decoded = decode_broadcast(encode_broadcast("abc123", packet, opts), "/chat", 10**7)
    assert decoded == ("abc123", packet, BroadcastOptions(to, but, volatile))


def test_a_broadcast_for_another_namespace_is_ignored() -> None:
    packet = Packet(PacketType.EVENT, "/other", ["ev"])
    assert decode_broadcast(encode_broadcast("u", packet, BroadcastOptions()), "/", 1000) is None


def test_notepack_extensions_read_as_notepack_writes_them() -> None:
    undefined = msgpack.ExtType(0, b"\x00")
    date = msgpack.ExtType(0, (1_700_000_000_123).to_bytes(8, "big"))
    array_buffer = msgpack.ExtType(0, b"\x01\x02\x03")
    message = msgpack.packb([undefined, date, array_buffer])
    assert decode_message(message, 1000) == [None, "2023-11-14T22:13:20.123Z", b"\x01\x02\x03"]


def test_json_is_told_apart_by_its_leading_brace() -> None:
    assert decode_message(b'{"type":6,"data":["ev"]}', 100) == {"type": 6, "data": ["ev"]}
    assert decode_message(msgpack.packb({"type": 6}), 100) == {"type": 6}


def test_options_say_what_the_npm_adapter_says() -> None:
    opts = BroadcastOptions(frozenset("ba"), frozenset("c"), volatile=True, timeout=1.5)
    assert options_to_wire(opts) == {
        "rooms": ["a", "b"],
        "except": ["c"],
        "flags": {"volatile": True, "timeout": 1500},
    }
    numeric = options_from_wire({"rooms": [1], "except": [], "flags": {"compress": False}})
    assert numeric == BroadcastOptions(frozenset({"1"}), compress=False)


def deep(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("value", [{1: "int key"}, float("nan"), {"set": {1}}, deep(40)])
def test_values_a_client_cannot_be_sent_are_refused(value: Any) -> None:
    with pytest.raises(WireError):
        check_data(value)


def test_a_sharded_or_streams_adapter_message_is_named_as_such() -> None:
    foreign = msgpack.packb({"uid": "abc", "nsp": "/", "type": 1, "data": {}})
    with pytest.raises(WireError, match="another kind of adapter uses this key prefix"):
        decode_broadcast(foreign, "/", 1000)


def test_oversized_and_undecodable_messages_are_refused() -> None:
    with pytest.raises(WireError, match="more than"):
        decode_message(b"{" + b" " * 100 + b"}", 50)
    with pytest.raises(WireError, match="undecodable"):
        decode_message(b"\xc1", 50)
