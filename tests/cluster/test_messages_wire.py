"""The sharded/streams message format without Redis: encodings, stream entries, bad input."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from typing import Any

import msgpack
import pytest
from hypothesis import given, strategies as st

from cluster.nodes import NODE_DIR
from siox.adapters.messages import (
    MessageType,
    decode_any,
    decode_entry,
    decode_msgpack,
    encode_entry,
    encode_sharded,
)
from siox.adapters.wire import WireError

payloads = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def message(kind: MessageType, data: dict[str, Any]) -> dict[str, Any]:
    return {"uid": "0123456789abcdef", "nsp": "/chat", "type": int(kind), "data": data}


@given(payloads)
def test_a_stream_entry_reads_back_as_written(value: Any) -> None:
    written = message(MessageType.BROADCAST, {"packet": {"type": 2, "data": ["ev", value]}})
    fields = encode_entry(written)
    assert fields["type"] == "3"
    raw = {key.encode(): item.encode() for key, item in fields.items()}
    assert decode_entry(raw, 10**6) == written


@given(payloads)
def test_a_sharded_message_reads_back_as_written(value: Any) -> None:
    written = message(MessageType.SERVER_SIDE_EMIT, {"packet": ["ev", value]})
    assert decode_any(encode_sharded(written), 10**6) == written


def test_binary_goes_as_notepack_and_base64_msgpack_else_json() -> None:
    plain = message(MessageType.BROADCAST, {"packet": {"type": 2, "data": ["ev", 1]}})
    binary = message(MessageType.BROADCAST, {"packet": {"type": 2, "data": ["ev", b"\x00"]}})
    assert json.loads(encode_sharded(plain)) == plain
    assert msgpack.unpackb(encode_sharded(binary)) == binary
    assert json.loads(encode_entry(plain)["data"]) == plain["data"]
    data = base64.b64decode(encode_entry(binary)["data"])
    assert msgpack.unpackb(data) == binary["data"]
    # a join never holds binary: JSON even with a bytes-looking room list
    join = message(MessageType.SOCKETS_JOIN, {"opts": {"rooms": []}, "rooms": ["r"]})
    assert json.loads(encode_entry(join)["data"]) == join["data"]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {b"uid": b"u", b"nsp": b"/"},
        {b"uid": b"u", b"nsp": b"/", b"type": b"three"},
        {b"uid": b"\xff", b"nsp": b"/", b"type": b"3"},
        {b"uid": b"u", b"nsp": b"/", b"type": b"3", b"data": b"{nope"},
        {b"uid": b"u", b"nsp": b"/", b"type": b"3", b"data": b"!!"},
        {b"uid": b"u", b"nsp": b"/", b"type": b"3", b"data": base64.b64encode(b"\xc1")},
        {b"uid": b"u", b"nsp": b"/", b"type": b"3", b"data": b"{" + b"x" * 2000 + b"}"},
    ],
)
def test_bad_stream_entries_are_refused(fields: dict[bytes, bytes]) -> None:
    with pytest.raises(WireError):
        decode_entry(fields, 1000)


def test_msgpack_dates_read_as_iso_strings_and_unknown_extensions_are_refused() -> None:
    date32 = bytes.fromhex("d6ff") + (86400).to_bytes(4, "big")
    date64 = bytes.fromhex("d7ff") + ((5_000_000 << 34) | 86400).to_bytes(8, "big")
    date96 = bytes.fromhex("c70cff") + (0).to_bytes(4, "big") + (-1).to_bytes(8, "big", signed=True)
    packed = b"\x93" + date32 + date64 + date96  # a 3-element array
    assert decode_msgpack(packed, 1000) == [
        "1970-01-02T00:00:00.000Z",
        "1970-01-02T00:00:00.005Z",
        "1969-12-31T23:59:59.000Z",
    ]
    with pytest.raises(WireError, match="extension type 5"):
        decode_msgpack(msgpack.packb(msgpack.ExtType(5, b"x")), 1000)
    with pytest.raises(WireError, match="more than"):
        decode_msgpack(msgpack.packb("x" * 100), 50)


@pytest.mark.interop
@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_what_msgpack_msgpack_writes_in_node_reads_here() -> None:
    script = """
    const { encode } = require("@msgpack/msgpack");
    const message = { uid: "u", nsp: "/", type: 9, data: {
      packet: ["ev", undefined, new Date(86400000), Buffer.from([1, 2]), { k: undefined }],
      requestId: undefined } };
    process.stdout.write(Buffer.from(encode(message)).toString("hex"));
    """
    node = shutil.which("node")
    assert node is not None
    out = subprocess.run(
        [node, "-e", script], cwd=NODE_DIR, capture_output=True, check=True, timeout=30
    ).stdout
    decoded = decode_msgpack(bytes.fromhex(out.decode()), 10_000)
    assert decoded == {
        "uid": "u",
        "nsp": "/",
        "type": 9,
        "data": {
            "packet": ["ev", None, "1970-01-02T00:00:00.000Z", b"\x01\x02", {"k": None}],
            "requestId": None,
        },
    }
