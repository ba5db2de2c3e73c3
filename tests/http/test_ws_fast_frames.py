"""The whole-frame fast path of `WebSocketConnection.receive_data` gives the general path's answers.

The fast path (`siox.fastpaths`) reads whole masked data frames without buffering. It must
refuse what the general path refuses: an unmasked client frame fails the connection with 1002
however the read is cut, including reads of 6 bytes or more that a fast path which took the
first bytes for a masking key would parse into a message.
"""

from __future__ import annotations

import pytest

import siox.fastpaths
from siox.http.frames import Opcode, encode_frame
from siox.http.websocket import (
    BinaryMessage,
    ConnectionFailed,
    ConnectionState,
    Role,
    TextMessage,
    WebSocketConnection,
)

KEY = b"\x01\x02\x03\x04"

UNMASKED_READS = {
    "one text frame": encode_frame(Opcode.TEXT, b"hello"),
    "one binary frame": encode_frame(Opcode.BINARY, b"\x00\x01\x02\x03\x04\x05"),
    # 2 header bytes + 2 payload bytes + 4 more bytes: exactly one frame to a reader that takes
    # bytes 2-5 for a masking key.
    "two binary frames": encode_frame(Opcode.BINARY, b"xy") + encode_frame(Opcode.BINARY, b"zw"),
    "an empty frame, then more": encode_frame(Opcode.BINARY, b"") + b"\x82\x80abcd"[:4],
    "16-bit length": encode_frame(Opcode.BINARY, b"a" * 200),
    "after a masked frame": encode_frame(Opcode.TEXT, b"ok", mask_key=KEY)
    + encode_frame(Opcode.BINARY, b"xy")
    + b"\x00\x00\x00\x00",
}


@pytest.mark.parametrize("read", list(UNMASKED_READS.values()), ids=list(UNMASKED_READS))
def test_fast_frame_path_refuses_unmasked_client_frames(read: bytes) -> None:
    assert len(read) >= 6
    conn = WebSocketConnection(Role.SERVER)
    events = conn.receive_data(read)
    failed = events[-1]
    assert isinstance(failed, ConnectionFailed)
    assert failed.code == 1002
    assert all(isinstance(e, TextMessage) and e.data == "ok" for e in events[:-1])
    assert conn.state is ConnectionState.CLOSED


def test_fast_frame_path_reads_whole_masked_frames() -> None:
    conn = WebSocketConnection(Role.SERVER)
    read = encode_frame(Opcode.TEXT, "héllo".encode(), mask_key=KEY) + encode_frame(
        Opcode.BINARY, b"\x00" * 300, mask_key=KEY
    )
    assert conn.receive_data(read) == [TextMessage("héllo"), BinaryMessage(b"\x00" * 300)]


@pytest.mark.parametrize("enabled", [True, False])
def test_switch_decides_whether_the_whole_frame_path_runs(
    monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    calls: list[int] = []
    whole_frames = WebSocketConnection._whole_frames

    def counted(self: WebSocketConnection, data: bytes) -> object:
        calls.append(len(data))
        return whole_frames(self, data)

    monkeypatch.setattr(WebSocketConnection, "_whole_frames", counted)
    monkeypatch.setattr(siox.fastpaths, "ENABLED", enabled)
    conn = WebSocketConnection(Role.SERVER)
    read = encode_frame(Opcode.TEXT, b"hi", mask_key=KEY)
    assert conn.receive_data(read) == [TextMessage("hi")]
    assert calls == ([len(read)] if enabled else [])
