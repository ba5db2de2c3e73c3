"""The converter on its own: what each annotation accepts, refuses, and where it says so."""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pytest

from siox.typed import encode, validator
from siox.typed.convert import INVALID, MAX_ERRORS, Errors


class Color(enum.IntEnum):
    RED = 1
    BLUE = 2


@dataclass
class Node:
    name: str
    children: list[Node] = field(default_factory=list)


@dataclass
class Positive:
    value: int

    def __post_init__(self) -> None:
        if self.value <= 0:
            raise ValueError("value must be positive")


def _check(tp: Any, value: Any) -> tuple[Any, Errors]:
    errors: Errors = []
    return validator(tp)(value, errors), errors


@pytest.mark.parametrize(
    ("tp", "value", "expected"),
    [
        (int, 3, 3),
        (float, 3, 3.0),
        (bytes, bytearray(b"ab"), b"ab"),
        (Literal[1, "a"], "a", "a"),
        (Color, 2, Color.BLUE),
        (tuple[int, str], [1, "x"], (1, "x")),
        (set[int], [1, 2, 2], {1, 2}),
        (int | str, "x", "x"),
        (dict[str, list[int]], {"a": [1]}, {"a": [1]}),
        (Annotated[int, "meta"], 4, 4),
        (Node, {"name": "a", "children": [{"name": "b"}]}, Node("a", [Node("b")])),
        (list, [1, "x"], [1, "x"]),
        (Any, {"x": object}, {"x": object}),
    ],
)
def test_values_that_fit_are_converted(tp: Any, value: Any, expected: Any) -> None:
    converted, errors = _check(tp, value)
    assert (converted, errors) == (expected, [])
    assert type(converted) is type(expected)


@pytest.mark.parametrize(
    ("tp", "value", "loc", "message"),
    [
        (int, 1.0, [], "expected an integer, got float"),
        (int, True, [], "expected an integer, got bool"),
        (Literal[1], True, [], "expected one of [1]"),
        (Color, 3, [], "expected one of [1, 2]"),
        (tuple[int, str], [1], [], "expected an array of 2 items"),
        (int | None, "x", [], "expected an integer, got str"),
        (int | str, None, [], "expected int or str, got null"),
        (dict[str, int], {1: 1}, [1], "expected a string, got int"),  # msgpack keys
        (dict[str, list[int]], {"a": [1, "2"]}, ["a", 1], "expected an integer, got str"),
        (Node, {"name": "a", "children": [{}]}, ["children", 0, "name"], "missing"),
        (Positive, {"value": 0}, [], "Positive: value must be positive"),
        (list[int], {"a": 1}, [], "expected an array, got dict"),
    ],
)
def test_values_that_do_not_fit_are_refused_with_where_and_why(
    tp: Any, value: Any, loc: list[Any], message: str
) -> None:
    converted, errors = _check(tp, value)
    assert converted is INVALID
    assert errors == [{"loc": loc, "message": message}]


def test_the_report_of_a_huge_invalid_payload_stays_small() -> None:
    converted, errors = _check(list[int], ["x"] * 10_000)
    assert converted is INVALID
    assert len(errors) == MAX_ERRORS
    assert [e["loc"] for e in errors[:3]] == [[0], [1], [2]]


def test_encode_turns_results_into_plain_values() -> None:
    tree = Node("a", [Node("b")])
    assert encode(tree) == {"name": "a", "children": [{"name": "b", "children": []}]}
    assert encode((Color.RED, {1, 2}, b"x")) == (1, [1, 2], b"x")  # a tuple: several acks
    assert encode([(1, 2)]) == [[1, 2]]
    assert encode(None) is None


@pytest.mark.skipif(sys.version_info < (3, 12), reason="`type` statements are Python 3.12+")
def test_type_aliases_are_followed() -> None:
    namespace: dict[str, Any] = {}
    exec("type Scores = dict[str, list[int]]", namespace)
    assert _check(namespace["Scores"], {"a": [1]}) == ({"a": [1]}, [])
    assert _check(namespace["Scores"], {"a": ["1"]})[0] is INVALID
