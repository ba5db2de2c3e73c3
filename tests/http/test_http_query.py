from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from siox.errors import InvalidPacket
from siox.http.query import parse_query, split_target


def test_query_is_decoded() -> None:
    assert parse_query("EIO=4&transport=polling&t=N8hyd6w&x=a%20b+c&empty=&flag") == {
        "EIO": "4",
        "transport": "polling",
        "t": "N8hyd6w",
        "x": "a b c",
        "empty": "",
        "flag": "",
    }


def test_first_of_repeated_keys_wins() -> None:
    assert parse_query("EIO=4&EIO=3") == {"EIO": "4"}


def test_hostile_keys_are_plain_strings() -> None:
    query = "transport=__proto__&__proto__=1&constructor=x&__class__=y&toString=z"
    parsed = parse_query(query)
    assert parsed["transport"] == "__proto__"
    assert parsed["__class__"] == "y"
    assert type(parsed) is dict


def test_bad_percent_escapes_never_raise() -> None:
    assert parse_query("a=%zz&b=%ff&c=%") == {"a": "%zz", "b": "\ufffd", "c": "%"}


def test_too_many_fields_is_400() -> None:
    with pytest.raises(InvalidPacket) as info:
        parse_query("a=1&" * 300)
    assert info.value.http_status == 400
    assert len(parse_query("&".join(f"k{i}=v" for i in range(256)))) == 256


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/socket.io/?EIO=4", ("/socket.io/", "EIO=4")),
        ("/socket.io", ("/socket.io", "")),
        ("/a?b?c", ("/a", "b?c")),
        ("/a#frag?x", ("/a", "")),
        ("http://host:80/p?q=1", ("/p", "q=1")),
        ("https://host?q=1", ("/", "q=1")),
        ("http://host", ("/", "")),
        ("//socket.io/", ("//socket.io/", "")),
        ("*", ("*", "")),
        ("", ("/", "")),
        ("?x=1", ("/", "x=1")),
    ],
)
def test_split_target(target: str, expected: tuple[str, str]) -> None:
    assert split_target(target) == expected


@given(st.text(max_size=200))
def test_query_helpers_never_raise_on_short_input(text: str) -> None:
    split_target(text)
    parse_query(text)
