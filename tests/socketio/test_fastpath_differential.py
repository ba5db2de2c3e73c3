"""Differential tests: the Socket.IO fast paths give what their general paths give.

* `SocketConnection.receive` (server role) turns a text EVENT/ACK for a joined namespace into
  its event without a `Packet`: two connections, fast paths on and off, are fed the same random
  messages (valid, invalid, binary, for joined and other namespaces) and must answer alike.
* `Parser.encode_fields` writes a main-namespace EVENT/ACK in fewer steps: random fields, valid
  or not, must give the same frames or the same error either way.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings, strategies as st

import siox.fastpaths
from fastswitch import fast_paths
from siox.jsonbackend import get_backend
from siox.parser import default
from siox.parser.default import Decoder, Parser
from siox.parser.packet import PacketType
from siox.socketio.connection import SocketConnection
from siox.socketio.parsers import resolve_parser
from strategies import json_values

messages = st.one_of(
    st.sampled_from(
        [
            "0",
            "0/chat,",
            '0{"token":1}',
            "0/chat?x=1,",
            '2["a",1]',
            '21["a",{"b":null}]',
            '2/chat,["a"]',
            '2/chat,7["a"]',
            '2/other,["a"]',
            "3[1]",
            '31["x"]',
            "3/chat,2[]",
            "31",
            "3",
            '51-["a",{"_placeholder":true,"num":0}]',
            '61-1[{"_placeholder":true,"num":0}]',
            '52-/chat,["a",{"_placeholder":true,"num":1}]',
            "1",
            "1/chat,",
            "2[]",
            '2["connect"]',
            "2 [1]",
            "2",
            "",
            "9",
            '4{"message":"x"}',
            '2["a"',
        ]
    ),
    st.binary(max_size=3),
    st.tuples(st.sampled_from(["2", "3", "21", "2/chat,"]), json_values()).map(
        lambda t: t[0] + get_backend(None).dumps(t[1])
    ),
)
steps = st.one_of(
    *[st.tuples(st.just("receive"), messages)] * 5,
    st.tuples(st.just("accept"), st.sampled_from(["/", "/chat"])),
    st.tuples(st.just("forget"), st.sampled_from(["/", "/chat"])),
)


def observe(conn: SocketConnection, kind: str, arg: Any, enabled: bool) -> Any:
    with fast_paths(enabled):
        try:
            if kind == "receive":
                result: Any = conn.receive(arg)
            elif kind == "accept":
                result = conn.accept(arg, "SID")
            else:
                conn.forget(arg)
                result = None
        except Exception as exc:
            result = (type(exc), str(exc))
    return result, sorted(conn.connected), sorted(conn.pending)


@settings(max_examples=300)
@example(4, [("receive", "0/chat,"), ("accept", "/chat"), ("receive", '2/chat,["a"]')])
@example(5, [("receive", "0"), ("accept", "/"), ("receive", '21["a"]'), ("receive", "31[1]")])
@example(5, [("receive", "0"), ("accept", "/"), ("receive", "2[]"), ("receive", "31")])
@given(protocol=st.sampled_from([5, 4]), script=st.lists(steps, min_size=1, max_size=30))
def test_socket_connections_with_and_without_fast_paths_answer_alike(
    protocol: int, script: list[tuple[str, Any]]
) -> None:
    parser = resolve_parser("default", protocol=protocol)
    fast = SocketConnection(parser, role="server", protocol=protocol, eio_sid="EIO")
    slow = SocketConnection(parser, role="server", protocol=protocol, eio_sid="EIO")
    for kind, arg in script:
        assert observe(fast, kind, arg, True) == observe(slow, kind, arg, False), (kind, arg)


ack_ids = st.one_of(
    st.none(), st.integers(0, 2**53 - 1), st.sampled_from([-1, 2**53, True, 1.0, "1"])
)
payloads = st.one_of(
    st.lists(json_values(binary=True), max_size=4),
    st.lists(json_values(binary=True), min_size=1, max_size=3).map(tuple),
    st.sampled_from([[], ["connect"], ["disconnect", 1], [True], [None], [1.5, b"\x00"], {}]),
    json_values(),
)


@settings(max_examples=300)
@example(5, PacketType.EVENT, "/", ["connect"], -1)  # two faults: the same one is reported
@example(5, PacketType.EVENT, "/", ("a", 1), 1)
@example(4, PacketType.EVENT, "/", ["connect"], None)  # reserved in protocol 5 only
@example(5, PacketType.ACK, "/", [b"\x00"], None)
@given(
    protocol=st.sampled_from([5, 4]),
    ptype=st.sampled_from([*PacketType, 2, 3]),
    nsp=st.sampled_from(["/", "/chat", "chat", "/a,b"]),
    data=payloads,
    ack_id=ack_ids,
)
def test_encode_fields_with_and_without_fast_paths_alike(
    protocol: int, ptype: Any, nsp: str, data: Any, ack_id: Any
) -> None:
    parser = Parser(protocol=protocol)

    def encode(enabled: bool) -> Any:
        with fast_paths(enabled):
            try:
                return parser.encode_fields(ptype, nsp, data, ack_id)
            except Exception as exc:
                return (type(exc), str(exc))

    assert encode(True) == encode(False)


@pytest.mark.parametrize("enabled", [True, False])
def test_switch_decides_whether_the_text_receive_path_runs(
    monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    fed: list[object] = []
    feed = Decoder.feed

    def counted(self: Decoder, chunk: Any) -> Any:
        fed.append(chunk)
        return feed(self, chunk)

    monkeypatch.setattr(Decoder, "feed", counted)
    monkeypatch.setattr(siox.fastpaths, "ENABLED", enabled)
    conn = SocketConnection(resolve_parser("default"), role="server")
    conn.receive("0")
    conn.accept("/", "SID")
    fed.clear()
    assert [e.args for e in conn.receive('2["a",1]')] == [["a", 1]]  # type: ignore[union-attr]
    assert fed == ([] if enabled else ['2["a",1]'])


@pytest.mark.parametrize("enabled", [True, False])
def test_switch_decides_whether_the_main_namespace_encode_path_runs(
    monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    checked: list[object] = []
    payload_valid = default._payload_valid

    def counted(ptype: Any, data: Any, protocol: int) -> bool:
        checked.append(data)
        return payload_valid(ptype, data, protocol)

    monkeypatch.setattr(default, "_payload_valid", counted)
    monkeypatch.setattr(siox.fastpaths, "ENABLED", enabled)
    assert Parser().encode_fields(PacketType.EVENT, "/", ["a", 1], 3) == ['23["a",1]']
    assert checked == ([] if enabled else [["a", 1]])
