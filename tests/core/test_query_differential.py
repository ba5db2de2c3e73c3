"""The handshake's query parsing gives the same with the fast paths on and off (and what
``urllib.parse.parse_qsl`` gives)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import example, given, strategies as st

import siox.fastpaths
from siox.engineio.query import parse_query

fields = st.lists(st.text(alphabet="abEIO=&;+%20é4tx", max_size=12), max_size=6).map("&".join)


@given(fields)
@example("EIO=4&transport=websocket")
@example("EIO=4&transport=polling&t=PxL2&sid=abc")
@example("a=1&&a=2&b&=x&c==d")
@example("q=a%20b&r=c+d")
def test_fast_and_general_paths_agree(query: str) -> None:
    expected = dict(parse_qsl(query, keep_blank_values=True))
    saved = siox.fastpaths.ENABLED
    try:
        for enabled in (True, False):
            siox.fastpaths.ENABLED = enabled
            assert parse_query(query) == expected
    finally:
        siox.fastpaths.ENABLED = saved
