"""The whole-frame fast path of `WebSocketConnection.receive_data` gives the general path's answers.

The fast path (`siox.fastpaths`) reads whole masked data frames without buffering. It must
refuse what the general path refuses: an unmasked client frame fails the connection with 1002
however the read is cut, including reads of 6 bytes or more that a fast path which took the
first bytes for a masking key would parse into a message.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings, strategies as st

import siox.fastpaths
from siox.http.frames import Opcode, encode_frame
from siox.http.websocket import (
    BinaryMessage,
    ConnectionFailed,
    ConnectionState,
    Role,
    TextMessage,
    WebSocketConnection,
    WebSocketEvent,
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

    def counted(self: WebSocketConnection, data: bytes, events: list[WebSocketEvent]) -> int:
        calls.append(len(data))
        return whole_frames(self, data, events)

    monkeypatch.setattr(WebSocketConnection, "_whole_frames", counted)
    monkeypatch.setattr(siox.fastpaths, "ENABLED", enabled)
    conn = WebSocketConnection(Role.SERVER)
    read = encode_frame(Opcode.TEXT, b"hi", mask_key=KEY)
    assert conn.receive_data(read) == [TextMessage("hi")]
    assert calls == ([len(read)] if enabled else [])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([Opcode.TEXT, Opcode.BINARY]), st.integers(0, 70_000)),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.integers(1, 200_000), max_size=8),
)
def test_large_frames_cut_anywhere_give_the_same_messages_on_both_paths(
    frames: list[tuple[Opcode, int]], cuts: list[int]
) -> None:
    """Large frames are collected read by read (no reassembly copy) on both paths; wherever
    the reads cut them, the messages are those of the whole input."""
    wire = b""
    expected: list[object] = []
    for index, (opcode, size) in enumerate(frames):
        payload = bytes((index + i) % 251 for i in range(size % 97)) * (size // 97 + 1)
        payload = payload[:size]
        if opcode is Opcode.TEXT:
            payload = payload.replace(b"\x80", b"a")  # keep it ASCII, so valid UTF-8
            payload = bytes(b & 0x7F for b in payload)
            expected.append(TextMessage(payload.decode()))
        else:
            expected.append(BinaryMessage(payload))
        wire += encode_frame(opcode, payload, mask_key=bytes((index, 7, 200, 33)))
    points = sorted({c % (len(wire) + 1) for c in cuts} | {0, len(wire)})
    reads = [wire[a:b] for a, b in itertools.pairwise(points)]
    for enabled in (True, False):
        saved = siox.fastpaths.ENABLED
        siox.fastpaths.ENABLED = enabled
        try:
            conn = WebSocketConnection(Role.SERVER, max_message_size=None)
            got = [event for read in reads for event in conn.receive_data(read)]
        finally:
            siox.fastpaths.ENABLED = saved
        assert got == expected


def test_a_large_frame_still_arriving_when_the_peer_hangs_up_fails_the_connection() -> None:
    conn = WebSocketConnection(Role.SERVER)
    wire = encode_frame(Opcode.BINARY, b"\x01" * 50_000, mask_key=KEY)
    assert conn.receive_data(wire[:30_000]) == []
    (failed,) = conn.receive_eof()
    assert isinstance(failed, ConnectionFailed)
    assert conn.receive_data(wire[30_000:]) == []


def test_bad_utf8_at_the_end_of_a_collected_text_frame_closes_with_1007() -> None:
    for enabled in (True, False):
        saved = siox.fastpaths.ENABLED
        siox.fastpaths.ENABLED = enabled
        try:
            conn = WebSocketConnection(Role.SERVER)
            wire = encode_frame(Opcode.TEXT, b"a" * 40_000 + b"\xff", mask_key=KEY)
            assert conn.receive_data(wire[:20_000]) == []
            events = conn.receive_data(
                wire[20_000:] + encode_frame(Opcode.TEXT, b"x", mask_key=KEY)
            )
        finally:
            siox.fastpaths.ENABLED = saved
        assert len(events) == 1
        assert isinstance(events[0], ConnectionFailed)
        assert events[0].code == 1007


_FRAME = st.tuples(
    st.sampled_from([Opcode.TEXT, Opcode.BINARY, Opcode.PING, Opcode.CONTINUATION]),
    st.one_of(
        st.binary(max_size=40),
        st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.integers(120, 70_000).map(lambda n: b"ab\xc3\xa9" * (n // 4)),
    ),
    st.booleans(),  # FIN
    st.booleans(),  # masked
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_FRAME, min_size=1, max_size=6),
    st.lists(st.integers(1, 300_000), max_size=4),
    st.sampled_from([Role.SERVER, Role.CLIENT]),
    st.sampled_from([None, 30, 1000, 70_000]),
)
def test_compiled_frame_scan_gives_the_pure_loops_and_the_general_paths_events(
    frames: list[tuple[Opcode, bytes, bool, bool]],
    cuts: list[int],
    role: Role,
    limit: int | None,
) -> None:
    """`_whole_frames`' compiled loop (`scan_frames`), its Python loop alone and the general
    path read any stream (bad UTF-8, frames masked the wrong way, over the limit, control
    frames, fragments, cut anywhere) into the same events, outgoing bytes and state."""
    import siox.http.websocket as websocket

    wire = b"".join(
        encode_frame(opcode, payload, fin=fin, mask_key=KEY if masked else None)
        for opcode, payload, fin, masked in frames
    )
    points = sorted({c % (len(wire) + 1) for c in cuts} | {0, len(wire)})
    reads = [wire[a:b] for a, b in itertools.pairwise(points)]
    compiled = websocket.scan_frames
    results = []
    for enabled, scan in ((True, compiled), (True, None), (False, None)):
        saved = siox.fastpaths.ENABLED
        siox.fastpaths.ENABLED = enabled
        websocket.scan_frames = scan
        try:
            conn = WebSocketConnection(
                role, max_message_size=limit, random_bytes=lambda n: b"\x07" * n
            )
            events = [event for read in reads for event in conn.receive_data(read)]
            results.append((events, conn.data_to_send(), conn.state, conn.close_code))
        finally:
            siox.fastpaths.ENABLED = saved
            websocket.scan_frames = compiled
    assert results[0] == results[1] == results[2]


def test_compiled_frame_scan_is_used_when_built() -> None:
    import siox.http.websocket as websocket
    from siox.http import _mask

    if _mask.unmask is _mask.pure_unmask:
        assert websocket.scan_frames is None
        pytest.skip("the optional compiled speedups are not built here")
    assert websocket.scan_frames is not None
    events: list[WebSocketEvent] = []
    read = encode_frame(Opcode.TEXT, b"hi", mask_key=KEY) + b"\x81"
    assert websocket.scan_frames(read, True, None, events) == len(read) - 1
    assert events == [TextMessage("hi")]
