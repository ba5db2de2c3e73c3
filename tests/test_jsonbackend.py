"""JSON backends: orjson and the standard library give identical answers."""

from __future__ import annotations

import enum
import json
import uuid

import pytest
from hypothesis import given, strategies as st

from siox.errors import InvalidPacket
from siox.jsonbackend import (
    JsonBackend,
    OrjsonBackend,
    StdlibBackend,
    default_backend,
    get_backend,
)

BACKENDS: list[JsonBackend] = [OrjsonBackend(), StdlibBackend()]


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("18446744073709551615", 2**64 - 1),
        ("-9223372036854775808", -(2**63)),
        ("18446744073709552000", 1.8446744073709552e19),  # beyond 64 bits: a double, as JS reads it
        ("-9223372036854775809", -9.223372036854776e18),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ('"\\ud800"', "\ud800"),  # lone surrogate escapes are accepted, as JSON.parse does
        ('{"a":1,"a":2}', {"a": 2}),
        ("[1.0]", [1.0]),
        ("1e-400", 0.0),
    ],
)
@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_loads_gives_the_same_value_on_both_backends(backend, text, value) -> None:
    result = backend.loads(text)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(
    "text", ["NaN", "[Infinity]", "-Infinity", "1e400", "9" * 400, "[1]x", '"\x00"', "", "[" * 50]
)
@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_loads_refuses_the_same_inputs_on_both_backends(backend, text) -> None:
    with pytest.raises(InvalidPacket):
        backend.loads(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ([1, 2**70], "[1,1180591620717411303424]"),
        ([float("nan"), float("inf"), -float("inf")], "[null,null,null]"),
        ({"é": "€😀"}, '{"é":"€😀"}'),
        (["\ud800"], '["\\ud800"]'),
        ({2: "a", None: "b", True: "c"}, '{"2":"a","null":"b","true":"c"}'),
        ([Color.RED, Level.HIGH], '["red",3]'),
        ([uuid.UUID(int=1)], '["00000000-0000-0000-0000-000000000001"]'),
        (("a", 1.5, -0.0), '["a",1.5,-0.0]'),
        ("\x7f\u2028<>&", '"\x7f\u2028<>&"'),
    ],
)
@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_dumps_gives_the_same_text_on_both_backends(backend, value, text) -> None:
    assert backend.dumps(value) == text


@pytest.mark.parametrize("value", [{1, 2}, b"x", object(), uuid.uuid4().hex.encode()])
@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_dumps_refuses_non_json_values_with_type_error(backend, value) -> None:
    with pytest.raises(TypeError):
        backend.dumps([value])


def test_depth_limit_is_per_instance() -> None:
    deep = "[" * 40 + "]" * 40
    with pytest.raises(InvalidPacket, match="deeper than 32"):
        default_backend().loads(deep)
    assert get_backend("stdlib", max_depth=40).loads(deep) is not None
    assert get_backend("orjson", max_depth=40).loads(deep) is not None
    with pytest.raises(InvalidPacket):
        get_backend("orjson", max_depth=39).loads(deep)


def test_get_backend_resolves_names_and_objects() -> None:
    backend = StdlibBackend()
    assert get_backend(backend) is backend
    assert get_backend("auto").name == "orjson"
    with pytest.raises(ValueError, match="unknown JSON backend"):
        get_backend("simplejson")
    with pytest.raises(ValueError, match="max_depth"):
        StdlibBackend(max_depth=0)


json_text = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(), c, max_size=4),
    max_leaves=10,
)


def test_float_text_may_differ_but_values_do_not() -> None:
    # orjson writes 5.960464477539063e-8 and 1e-05 as 0.00001, Python's repr 5.960464477539063e-08
    # and 1e-05 (JavaScript a third way): the same doubles, so every peer reads the same value.
    for value in (5.960464477539063e-08, 1e-05, 1e16, 2.5e-6):
        texts = {backend.dumps(value) for backend in BACKENDS}
        assert {backend.loads(text) for backend in BACKENDS for text in texts} == {value}


@given(json_text)
def test_backends_agree_on_arbitrary_values(value: object) -> None:
    results = []
    for backend in BACKENDS:
        try:
            text = backend.dumps(value)
            decoded = [other.loads(text) for other in BACKENDS] if text.count("[") < 30 else []
            results.append(("ok", repr(decoded)))
        except (TypeError, InvalidPacket) as exc:
            results.append((type(exc).__name__, ""))
    assert results[0] == results[1]


@given(st.text(max_size=40) | st.binary(max_size=40))
def test_backends_agree_on_arbitrary_input(data: str | bytes) -> None:
    answers = []
    for backend in BACKENDS:
        try:
            answers.append(repr(backend.loads(data)))
        except InvalidPacket:
            answers.append("invalid")
    assert answers[0] == answers[1]


@pytest.mark.parametrize("name", ["stdlib", "orjson"])
def test_depth_limit_counts_brackets_however_long_the_strings_between_them(name: str) -> None:
    filler = '"' + "x" * 3000 + '"'
    deep = "[" * 33 + filler + "]" * 33
    backend = get_backend(name, max_depth=32)
    with pytest.raises(InvalidPacket):
        backend.loads(deep)
    with pytest.raises(InvalidPacket):
        backend.loads(deep.encode())
    # many brackets, none deep (inside strings, or side by side): accepted
    assert backend.loads(json.dumps(["[{" * 100, [[1]] * 50, filler])) is not None
    assert backend.loads(json.dumps([{"a": [1]}] * 40).encode()) is not None
