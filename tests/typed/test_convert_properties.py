"""Property tests of the converter: encode -> wire -> validate gives back the value.

Dataclass shapes are generated (fields of scalars, binary, optionals, lists, tuples, dicts and
nested dataclasses); each value goes through `siox.typed.encode`, the real Socket.IO parser
(attachments included) and the validator built from its type.
"""

from __future__ import annotations

import dataclasses
import itertools
from types import GenericAlias
from typing import Any

from hypothesis import given, settings, strategies as st

from siox.parser import Decoder, Packet, PacketType, encode
from siox.typed import encode as encode_result, validator
from siox.typed.convert import INVALID, Errors

Shape = tuple[Any, st.SearchStrategy[Any]]
_names = itertools.count()
_SAFE_INT = 2**53 - 1

LEAVES: list[Shape] = [
    (int, st.integers(-_SAFE_INT, _SAFE_INT)),
    (float, st.floats(allow_nan=False, allow_infinity=False)),
    (str, st.text(max_size=8)),
    (bool, st.booleans()),
    (bytes, st.binary(max_size=8)),
]


def _dataclass(fields: list[Shape]) -> Shape:
    cls = dataclasses.make_dataclass(
        f"Shape{next(_names)}", [(f"f{i}", tp) for i, (tp, _) in enumerate(fields)]
    )
    return cls, st.builds(cls, *(strategy for _, strategy in fields))


def _extend(children: st.SearchStrategy[Shape]) -> st.SearchStrategy[Shape]:
    return st.one_of(
        children.map(lambda c: (GenericAlias(list, (c[0],)), st.lists(c[1], max_size=3))),
        children.map(
            lambda c: (GenericAlias(tuple, (c[0], ...)), st.lists(c[1], max_size=3).map(tuple))
        ),
        children.map(
            lambda c: (
                GenericAlias(dict, (str, c[0])),
                st.dictionaries(st.text(max_size=4), c[1], max_size=3),
            )
        ),
        children.map(lambda c: (c[0] | None, st.none() | c[1])),
        st.lists(children, min_size=1, max_size=3).map(_dataclass),
    )


SHAPES: st.SearchStrategy[Shape] = st.lists(
    st.recursive(st.sampled_from(LEAVES), _extend, max_leaves=6), min_size=1, max_size=4
).map(_dataclass)


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[Any, Any]:
    tp, strategy = draw(SHAPES)
    return tp, draw(strategy)


def _over_the_wire(value: Any) -> Any:
    """``value`` encoded and decoded by the Socket.IO parser, as an event argument."""
    decoder = Decoder(max_attachments=10_000)
    packets = []
    for chunk in encode(Packet(PacketType.EVENT, "/", ["event", value])):
        packets.extend(decoder.feed(chunk))
    [packet] = packets
    return packet.data[1]


@settings(max_examples=100, deadline=None)
@given(typed_values())
def test_encoded_values_validate_back_to_themselves(case: tuple[Any, Any]) -> None:
    tp, value = case
    errors: Errors = []
    wire = _over_the_wire(encode_result(value))
    assert validator(tp)(wire, errors) == value
    assert errors == []


@settings(max_examples=100, deadline=None)
@given(typed_values(), st.sampled_from(["a string", 1.5, None, [], {}, True]))
def test_a_field_of_the_wrong_kind_is_refused(case: tuple[Any, Any], wrong: Any) -> None:
    tp, value = case
    encoded = encode_result(value)
    field = dataclasses.fields(tp)[0]
    check = validator(field.type)
    if check(wrong, []) is not INVALID:
        return  # that value fits this field (an Optional takes None, a float takes 1.5...)
    encoded[field.name] = wrong
    errors: Errors = []
    assert validator(tp)(encoded, errors) is INVALID
    assert errors and errors[0]["loc"][:1] == [field.name]
