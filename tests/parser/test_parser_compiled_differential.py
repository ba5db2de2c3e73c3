"""The compiled parser fast paths give exactly what the pure fast paths and the general paths give.

Three ways to run one `Parser`: its compiled `siox.parser._speedups.Codec` (an exact
`OrjsonBackend` with the speedups built), its pure-Python fast branches (``_codec`` set to
None), and the general paths alone (`siox.fastpaths` off). For random packets and texts near
the edges (reserved names, ack ids at the limits, non-list data, tuples, non-str keys, big
ints, lone surrogates, NaN, bytearray/memoryview, invalid JSON, depth limits, attachment
counts) the three must return equal results or raise the same exception with the same text.
The compiled `reconstruct` is compared with `pure_reconstruct` the same way.
"""

from __future__ import annotations

import copy
import enum
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from hypothesis import example, given, strategies as st

from fastswitch import fast_paths
from siox.jsonbackend import StdlibBackend
from siox.parser import Decoder, Packet, PacketType, Parser
from siox.parser.binary import pure_reconstruct, reconstruct
from siox.parser.packet import COMPILED, RESERVED_EVENTS
from strategies import json_scalars, text

compiled_only = pytest.mark.skipif(
    COMPILED is None, reason="the optional compiled speedups are not built here"
)


class Colour(enum.Enum):
    RED = "red"


class Slash(str):
    pass


weird_scalars = st.sampled_from(
    [
        2**53,
        2**63 - 1,
        -(2**63),
        -(2**63) - 1,
        2**64 - 1,
        2**64,
        10**30,
        "\ud800",
        "a\udfffb",
        "é",
        "\U0001f600",
        float("nan"),
        float("inf"),
        -0.0,
        1e-7,
        True,
        Colour.RED,
        uuid.UUID(int=5),
    ]
)
binaries: st.SearchStrategy[Any] = (
    st.binary(max_size=8)
    | st.binary(max_size=8).map(bytearray)
    | st.binary(max_size=8).map(lambda b: memoryview(b))
)
leaves = json_scalars | weird_scalars | binaries
values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(text, children, max_size=4)
        | st.dictionaries(st.integers(0, 3), children, max_size=2)
    ),
    max_leaves=10,
)
names: st.SearchStrategy[Any] = (
    st.sampled_from(sorted(RESERVED_EVENTS))
    | text
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.sampled_from([None, True, [], b"x"])
)
datas = st.builds(lambda n, rest: [n, *rest], names, st.lists(values, max_size=3)) | values
ptypes = st.sampled_from(list(PacketType)) | st.sampled_from([2, 3, 7, -1, "2"])
nsps = st.sampled_from(["/", "/chat", "", "/a,b", Slash("/"), 5])
ack_ids = st.sampled_from([None, 0, 1, 2**53 - 1, 2**53, -1, True, 1.5, "3", 10**30]) | st.integers(
    0, 2**53 - 1
)


@contextmanager
def mode(parser: Parser, name: str) -> Iterator[None]:
    """Run ``parser`` ``compiled``, ``pure`` (fast paths in Python) or ``general``."""
    saved = parser._codec
    if name == "pure":
        parser._codec = None
    try:
        with fast_paths(name != "general"):
            yield
    finally:
        parser._codec = saved


MODES = ("compiled", "pure", "general")


def outcome(fn: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", fn())
    except Exception as exc:  # every exception must match, type and text
        return ("error", type(exc), str(exc))


def same(results: list[Any]) -> None:
    # repr: NaN compares unequal to itself inside decoded data
    assert all(repr(r) == repr(results[0]) for r in results), results


@example(PacketType.EVENT, "/", ["echo", b"\x00", bytearray(b"\x01")], 2**53 - 1, 5)
@example(PacketType.EVENT, "/", ["connect"], None, 5)
@example(PacketType.EVENT, "/", ["connect"], None, 4)
@example(PacketType.EVENT, "/", ["a", 2**64], None, 5)
@example(PacketType.EVENT, "/", ["a", "\ud800"], None, 5)
@example(PacketType.EVENT, "/", ["a", {1: 2}], None, 5)
@example(PacketType.ACK, "/", ("a", b"x"), 2**53, 5)
@example(PacketType.ACK, "/", ["a", float("nan")], True, 5)
@example(PacketType.EVENT, Slash("/"), ["a", memoryview(b"xy")], 0, 5)
@given(ptypes, nsps, datas, ack_ids, st.sampled_from([4, 5]))
def test_encoding_is_the_same_compiled_pure_and_general(
    ptype: Any, nsp: Any, data: Any, ack_id: Any, protocol: int
) -> None:
    parser = Parser(protocol=protocol)
    results = []
    for name in MODES:
        with mode(parser, name):
            packet = Packet(ptype, nsp, data, ack_id)
            results.append(
                (
                    outcome(lambda: parser.encode_fields(ptype, nsp, data, ack_id)),
                    outcome(partial(parser.encode, packet)),
                )
            )
    same(results)


heads = st.sampled_from(
    [
        *["2", "3", "5", "6", "0", "21", "31", "2/chat,", "51-", "61-", "52-", "5-", "50-"],
        *["511-", "5999999999-", "51-/a,", "612-4", "5²-", "5 1-", "51", "500000000001-"],
    ]
)
ids = st.sampled_from(
    ["", "0", "7", "017", "9007199254740991", "9007199254740992", "99999999999999999"]
) | st.from_regex(r"\A[0-9]{1,18}\Z")
oddities = st.sampled_from(["", " ", "²", "/", ",", "-", "1-", "[", "x"])
bodies = st.sampled_from(
    [
        '["echo",1]',
        '["connect"]',
        '["newListener",{}]',
        "[1,2]",
        "[1.5]",
        "[null]",
        "[[]]",
        "[]",
        '["a"',
        "[ ]",
        '["a"] ',
        '{"a":1}',
        '"x"',
        "",
        "[NaN]",
        "[1e400]",
        "[18446744073709551615]",
        "[18446744073709551616]",
        "[-9223372036854775809]",
        '["\\ud800"]',
        '["a","\\udfff\\ud800"]',
        '["é","\U0001f600"]',
        '["a",{"1":2,"1":3}]',
        '["a",' + "[" * 40 + "]" * 40 + "]",
        '["a",' + "[" * 31 + "]" * 31 + "]",
        '["a",' + ",".join(["{}"] * 40) + "]",
        '[{"_placeholder":true,"num":0}]',
        '["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]',
    ]
) | st.builds(json.dumps, st.lists(json_scalars, min_size=1, max_size=3)).map(
    lambda s: s.replace(" ", "")
)
texts = st.builds(lambda h, i, o, b: h + i + o + b, heads, ids, oddities, bodies)
configs = st.sampled_from([(5, 10, None), (4, 10, None), (5, 1, None), (5, 10, 3), (4, 2, 40)])


@example('51-["a",{"_placeholder":true,"num":0}]', (5, 10, None))
@example('3["x",' + "[" * 2 + "]" * 2 + "]", (5, 10, 3))
@example('2["\U0001f600",1]', (5, 10, None))
@given(texts, configs)
def test_parsing_is_the_same_compiled_pure_and_general(
    text: str, config: tuple[int, int, int | None]
) -> None:
    protocol, most, depth = config
    parser = Parser(protocol=protocol, max_attachments=most, max_depth=depth)
    results = []
    for name in MODES:
        with mode(parser, name):
            results.append(
                (outcome(lambda: parser.parse_text(text)), outcome(lambda: parser.decode(text)))
            )
    same(results)


def feed_all(decoder: Decoder, frames: list[Any]) -> list[tuple[Any, ...]]:
    return [outcome(partial(decoder.feed, frame)) for frame in frames]


@given(texts, configs, st.lists(st.binary(max_size=3), max_size=3))
def test_a_decoder_feeds_the_same_compiled_pure_and_general(
    text: str, config: tuple[int, int, int | None], attachments: list[bytes]
) -> None:
    protocol, most, depth = config
    frames = [text, *attachments, text, *attachments]
    results = []
    for name in MODES:
        parser = Parser(protocol=protocol, max_attachments=most, max_depth=depth)
        decoder = Decoder(parser=parser)
        if name == "pure":
            decoder._codec = None
        with mode(parser, name):
            results.append(feed_all(decoder, frames))
    same(results)


@given(st.lists(values, min_size=1, max_size=3), ack_ids, st.sampled_from([4, 5]))
def test_binary_packets_round_trip_the_same_compiled_pure_and_general(
    args: list[Any], ack_id: Any, protocol: int
) -> None:
    data = ["up", *args]
    results = []
    for name in MODES:
        parser = Parser(protocol=protocol)
        decoder = Decoder(parser=parser)
        if name == "pure":
            decoder._codec = None
        packet = Packet(PacketType.EVENT, "/", data, ack_id)
        with mode(parser, name):
            encoded = outcome(partial(parser.encode, packet))
            fed = feed_all(decoder, encoded[1]) if encoded[0] == "ok" else []
        results.append((encoded, fed))
    same(results)


placeholders = (
    st.builds(
        lambda num: {"_placeholder": True, "num": num},
        st.sampled_from([0, 1, 2, -1, 3, True, 1.0, "0", None, 2**70, -(2**70)]),
    )
    | st.just({"_placeholder": True})
    | st.just({"_placeholder": 1, "num": 0})
)


class Items(list[Any]):
    pass


class Fields(dict[str, Any]):
    pass


tree = st.recursive(
    json_scalars | placeholders | st.binary(max_size=2),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(text, children, max_size=3)
        | st.lists(children, max_size=2).map(Items)
        | st.dictionaries(text, children, max_size=2).map(Fields)
    ),
    max_leaves=12,
)


@example({"_placeholder": True, "num": 0})
@example([[{"_placeholder": True, "num": 2}], {"a": {"_placeholder": True, "num": True}}])
@given(tree)
def test_the_compiled_reconstruct_matches_the_pure_one(data: Any) -> None:
    attachments = [b"a", b"b", b"c"]
    results = []
    for fn in (reconstruct, pure_reconstruct):
        copied = copy.deepcopy(data)
        results.append((outcome(partial(fn, copied, attachments)), copied))
    same(results)


@compiled_only
def test_an_encode_inside_an_encode_collects_its_own_attachments() -> None:
    parser = Parser()
    inner: list[Any] = []

    class Sneaky(bytes):
        def __bytes__(self) -> bytes:  # called by the outer encode's binary hook
            inner.append(parser.encode(Packet(PacketType.EVENT, "/", ["in", b"i", b"j"])))
            return b"outer"

    frames = parser.encode(Packet(PacketType.EVENT, "/", ["out", Sneaky(b"s")]))
    assert frames == ['51-["out",{"_placeholder":true,"num":0}]', b"outer"]
    assert inner == [
        ['52-["in",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', b"i", b"j"]
    ]


@compiled_only
def test_the_compiled_paths_keep_no_references() -> None:
    parser = Parser()
    blob = b"\x00" * 10
    data = ["echo", {"k": blob}, blob]
    frames = parser.encode(Packet(PacketType.EVENT, "/", data, 3))
    text = parser.encode(Packet(PacketType.EVENT, "/", ["echo", 1], 3))[0]
    before = (sys.getrefcount(data), sys.getrefcount(blob), sys.getrefcount(text))
    decoder = Decoder(parser=parser)
    for _ in range(200):
        parser.encode(Packet(PacketType.EVENT, "/", data, 3))
        parser.encode(Packet(PacketType.EVENT, "/", [*data, 2**64], 1))  # orjson declines
        feed_all(decoder, [*frames, text])
        with pytest.raises(ValueError, match="invalid ack id"):
            parser.encode(Packet(PacketType.EVENT, "/", data, -1))
    assert (sys.getrefcount(data), sys.getrefcount(blob), sys.getrefcount(text)) == before


def test_a_subclass_override_is_not_bypassed_by_the_compiled_paths() -> None:
    calls = []

    class Counting(Parser):
        def encode_fields(self, *fields: Any) -> list[str | bytes]:
            calls.append("encode_fields")
            return super().encode_fields(*fields)

        def parse_text(self, text: str) -> Any:
            calls.append("parse_text")
            return super().parse_text(text)

    parser = Counting()
    assert parser.encode(Packet(PacketType.EVENT, "/", ["a"])) == ['2["a"]']
    assert Decoder(parser=parser).feed('2["a"]') == [Packet(PacketType.EVENT, "/", ["a"])]
    assert calls == ["encode_fields", "parse_text"]


def test_only_an_orjson_backend_gets_the_compiled_paths() -> None:
    assert Parser(json=StdlibBackend())._codec is None
    assert (Parser()._codec is None) == (COMPILED is None)


def test_without_extensions_the_parser_runs_pure_python() -> None:
    code = (
        "from siox.parser import Parser, binary; "
        "assert Parser()._codec is None; "
        "assert binary.reconstruct is binary.pure_reconstruct"
    )
    env = dict(os.environ, SIOX_NO_EXTENSIONS="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
