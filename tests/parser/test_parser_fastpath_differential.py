"""The default parser's fast paths give exactly the general path's answers.

`Parser.parse_text` reads a main-namespace EVENT/ACK text (``2[...``, ``3<id>[...``) in fewer
steps while `siox.fastpaths.ENABLED`; ``OrjsonBackend.dumps_with_binary`` collects binary values in
its one orjson pass. Random texts near the fast path's edges (digits, brackets,
namespaces, reserved names, bad JSON) must decode to the same tuple, or fail with the same
error, with the switch on and off; binary data must encode to the same frames on both JSON
backends.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, strategies as st

from fastswitch import fast_paths
from siox.errors import InvalidPacket
from siox.jsonbackend import OrjsonBackend, StdlibBackend
from siox.parser import Decoder, Packet, PacketType, Parser
from strategies import json_values


def outcome(parser: Parser, text: str) -> tuple[str, Any]:
    try:
        return "ok", parser.parse_text(text)
    except InvalidPacket as exc:
        return "error", str(exc)


heads = st.sampled_from(
    [
        *["2", "3", "5", "6", "0", "21", "31", "2/chat,", "3/x,9", "51-", "61-", "52-", "5-"],
        *["6x-", "50-", "511-", "5999999999-", "51-/a,", "612-4", "5²-", "5 1-", "51"],
    ]
)
ids = st.sampled_from(
    ["", "0", "7", "017", "9007199254740991", "9007199254740992"]
) | st.from_regex(r"\A[0-9]{1,19}\Z")
oddities = st.sampled_from(["", " ", "²", "/", ",", "-", "1-", "[", "x"])
bodies = st.sampled_from(
    [
        '["echo",1]',
        '["connect"]',
        '["newListener",{}]',
        "[1,2]",
        "[1.5]",
        "[null]",
        "[true]",
        "[[]]",
        "[]",
        '["a"',
        "[ ]",
        '["a"] ',
        '{"a":1}',
        '"x"',
        "",
        '[{"_placeholder":true,"num":0}]',
    ]
)


@example('51-["a",{"_placeholder":true,"num":0}]')
@example('61-3[{"_placeholder":true,"num":0}]')
@example('511-["a"]')
@example("2[]")
@example('3["x"]')
@example('29007199254740992["a"]')
@example('2²["a"]')
@example('2 ["a"]')
@given(st.builds(lambda h, i, o, b: h + i + o + b, heads, ids, oddities, bodies))
def test_parse_text_gives_the_same_answer_with_and_without_its_fast_path(text: str) -> None:
    for protocol, most in ((5, 10), (4, 10), (5, 1)):
        parser = Parser(protocol=protocol, max_attachments=most)
        with fast_paths(True):
            fast = outcome(parser, text)
        with fast_paths(False):
            slow = outcome(parser, text)
        assert fast == slow


@given(json_values(binary=True))
def test_binary_data_encodes_to_the_same_frames_on_both_json_backends(value: Any) -> None:
    data = ["echo", value]
    frames = [
        Parser(json=backend).encode(Packet(PacketType.EVENT, "/", data, 3))
        for backend in (OrjsonBackend(), StdlibBackend())
    ]
    # Float text may differ between the backends (``1e-07`` / ``1e-7``); nothing else may.
    assert frames[0][1:] == frames[1][1:]
    packets = []
    for encoded in frames:
        decoder = Decoder()
        packets.append([packet for frame in encoded for packet in decoder.feed(frame)])
    assert packets[0] == packets[1]


@pytest.mark.parametrize("binary", [False, True])
def test_data_that_looks_like_a_placeholder_is_written_as_it_is(binary: bool) -> None:
    mark = {"_placeholder": True, "num": -1}
    data: list[Any] = ["echo", mark, b"\x01"] if binary else ["echo", mark]
    frames = Parser(json=OrjsonBackend()).encode(Packet(PacketType.EVENT, "/", data))
    head = '["echo",{"_placeholder":true,"num":-1}'
    if binary:
        assert frames == [f'51-{head},{{"_placeholder":true,"num":0}}]', b"\x01"]
    else:
        assert frames == [f"2{head}]"]


def test_a_binary_header_parsed_once_is_completed_by_its_attachment() -> None:
    parser = Parser()
    decoder = Decoder(parser=parser)
    header = parser.parse_text('51-7["up",{"_placeholder":true,"num":0}]')
    assert decoder.feed_parsed(header) == []
    (packet,) = decoder.feed(b"\x00\x01")
    assert packet == Packet(PacketType.EVENT, "/", ["up", b"\x00\x01"], 7)
    with pytest.raises(InvalidPacket):
        decoder.feed_parsed(header)
        decoder.feed_parsed(header)
