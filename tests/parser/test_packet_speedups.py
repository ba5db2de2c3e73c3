"""The compiled packet helpers (`siox.parser._speedups`) build the packets the pure ones build."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, strategies as st

from siox.parser import packet as packet_module
from siox.parser.packet import Packet, PacketType, make_packet, pure_init, pure_make_packet

compiled = pytest.mark.skipif(
    make_packet is pure_make_packet, reason="the optional compiled speedups are not built here"
)


@given(
    st.sampled_from(list(PacketType)),
    st.text(max_size=5),
    st.none() | st.lists(st.integers(), max_size=3) | st.binary(max_size=3),
    st.none() | st.integers(0, 2**53 - 1),
)
def test_make_packet_gives_the_packet_the_constructor_gives(
    ptype: PacketType, nsp: str, data: object, ack_id: int | None
) -> None:
    expected = Packet(ptype, nsp, data, ack_id)
    for make in (make_packet, pure_make_packet):
        built = make(ptype, nsp, data, ack_id)
        assert type(built) is Packet
        assert built == expected
        if not isinstance(data, list):  # a list payload makes the packet unhashable
            assert hash(built) == hash(expected)
        assert (built.type, built.nsp, built.data, built.id) == (ptype, nsp, data, ack_id)


def test_packets_stay_frozen_and_release_their_fields() -> None:
    data = [object()]
    packet = make_packet(PacketType.EVENT, "/", data, 1)
    with pytest.raises(AttributeError):
        packet.nsp = "/other"  # type: ignore[misc]
    before = sys.getrefcount(data)
    for _ in range(100):
        Packet(PacketType.EVENT, "/", data, 1)
        make_packet(PacketType.EVENT, "/", data, 1)
    assert sys.getrefcount(data) == before
    del packet


def test_a_subclass_is_filled_by_the_inherited_constructor() -> None:
    class Tagged(Packet):
        __slots__ = ("tag",)

    tagged = Tagged(PacketType.ACK, "/x", [1], 4)
    assert (tagged.type, tagged.nsp, tagged.data, tagged.id) == (PacketType.ACK, "/x", [1], 4)


@compiled
def test_the_compiled_fill_refuses_objects_that_are_not_packets() -> None:
    from siox.parser import _speedups

    with pytest.raises(TypeError):
        _speedups.fill(object(), 1, 2, 3, 4)
    assert packet_module._fill is _speedups.fill


def test_without_extensions_the_pure_helpers_are_used() -> None:
    code = (
        "from siox.parser import packet as p; "
        "assert p.make_packet is p.pure_make_packet and p._fill is p.pure_fill; "
        "print(p.Packet(p.PacketType.EVENT, '/', [1], 2))"
    )
    env = dict(os.environ, SIOX_NO_EXTENSIONS="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "Packet(type=<PacketType.EVENT: 2>, nsp='/', data=[1], id=2)" in out.stdout


def build(init: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    packet: Packet = object.__new__(Packet)
    try:
        init(packet, *args, **kwargs)
    except TypeError as exc:
        return ("error", str(exc))
    return ("ok", packet.type, packet.nsp, packet.data, packet.id)


fields = st.sampled_from(["type", "nsp", "data", "id", "ID", "other"])


@given(
    st.lists(st.sampled_from([PacketType.EVENT, "/x", [1], 4, None]), max_size=6).map(tuple),
    st.dictionaries(fields, st.sampled_from([PacketType.ACK, "/y", None, 7]), max_size=3),
)
def test_the_compiled_init_fills_and_refuses_as_the_python_one(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    expected = build(pure_init, args, kwargs)
    assert build(Packet.__init__, args, kwargs) == expected
    assert construct(args, kwargs) == expected


def construct(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    try:
        packet = Packet(*args, **kwargs)
    except TypeError as exc:
        return ("error", str(exc))
    return ("ok", packet.type, packet.nsp, packet.data, packet.id)


@compiled
def test_the_compiled_init_is_the_class_init() -> None:
    assert Packet.__init__ is not pure_init
    assert str(inspect.signature(Packet)) == "(type, nsp='/', data=None, id=None)"
