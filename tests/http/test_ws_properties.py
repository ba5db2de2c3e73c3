"""Property tests of the WebSocket codec: round trips, and "garbage never raises"."""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable

from hypothesis import given, strategies as st

from siox.http.deflate import DeflateParams
from siox.http.frames import Opcode
from siox.http.websocket import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    ConnectionState,
    Ping,
    Pong,
    Role,
    TextMessage,
    WebSocketConnection,
    WebSocketEvent,
)

RawFrame = Callable[..., bytes]
PairFactory = Callable[..., tuple[WebSocketConnection, WebSocketConnection]]
EVENT_TYPES = (TextMessage, BinaryMessage, Ping, Pong, CloseReceived, ConnectionFailed)

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
messages = st.lists(
    st.one_of(texts.map(TextMessage), st.binary(max_size=300).map(BinaryMessage)), max_size=6
)
deflates = st.one_of(
    st.none(),
    st.builds(
        DeflateParams,
        server_no_context_takeover=st.booleans(),
        client_no_context_takeover=st.booleans(),
        server_max_window_bits=st.integers(9, 15),
        client_max_window_bits=st.integers(9, 15),
        threshold=st.sampled_from([0, 20, 1024]),
    ),
)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@given(
    messages,
    deflates,
    st.booleans(),
    st.one_of(st.none(), st.integers(1, 64)),
    st.lists(st.integers(0, 10_000), max_size=10),
)
def test_messages_round_trip_in_both_roles(
    ws_pair: PairFactory,
    sent: list[TextMessage | BinaryMessage],
    deflate: DeflateParams | None,
    server_sends: bool,
    fragment_size: int | None,
    cuts: list[int],
) -> None:
    srv, cli = ws_pair(deflate)
    sender, receiver = (srv, cli) if server_sends else (cli, srv)
    wire = b""
    for message in sent:
        if isinstance(message, TextMessage):
            wire += sender.send_text(message.data, fragment_size=fragment_size)
        else:
            wire += sender.send_binary(message.data, fragment_size=fragment_size)
        wire += sender.send_ping(b"p")
    received: list[WebSocketEvent] = []
    for piece in split(wire, cuts):
        received += receiver.receive_data(piece)
    assert [e for e in received if not isinstance(e, Ping)] == sent
    pongs = sender.receive_data(receiver.data_to_send())
    assert pongs == [Pong(b"p")] * len(sent)  # every ping answered


@given(texts, st.lists(st.integers(0, 2000), min_size=1, max_size=6), st.booleans())
def test_peer_fragmentation_at_any_byte_is_reassembled(
    raw_frame: RawFrame, text: str, cuts: list[int], compress: bool
) -> None:
    payload = text.encode()
    if compress:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        payload = (compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
    pieces = split(payload, cuts)
    frames = b""
    for i, piece in enumerate(pieces):
        opcode = Opcode.TEXT if i == 0 else Opcode.CONTINUATION
        rsv = 4 if compress and i == 0 else 0
        frames += raw_frame(opcode, piece, fin=i == len(pieces) - 1, rsv=rsv)
        frames += raw_frame(Opcode.PONG, b"")
    srv = WebSocketConnection(Role.SERVER, deflate=DeflateParams() if compress else None)
    events = srv.receive_data(frames)
    assert [e for e in events if not isinstance(e, Pong)] == [TextMessage(text)]


def check_never_raises(conn: WebSocketConnection, chunks: list[bytes]) -> None:
    failed = False
    for chunk in chunks:
        for event in conn.receive_data(chunk):
            assert isinstance(event, EVENT_TYPES)
            if isinstance(event, ConnectionFailed | CloseReceived):
                assert not failed, "only one closing event"
                failed = True
        conn.data_to_send()
    if failed:
        assert conn.state is ConnectionState.CLOSED
    conn.receive_eof()


@given(st.lists(st.binary(max_size=200), max_size=8), st.sampled_from(Role), deflates)
def test_arbitrary_bytes_only_produce_events_or_a_close(
    chunks: list[bytes], role: Role, deflate: DeflateParams | None
) -> None:
    check_never_raises(
        WebSocketConnection(role, deflate=deflate, max_message_size=500, max_fragments=4), chunks
    )


frame_specs = st.lists(
    st.tuples(
        st.integers(0, 15),  # opcode, reserved ones included
        st.booleans(),  # fin
        st.integers(0, 7),  # RSV bits
        st.booleans(),  # masked
        st.one_of(st.binary(max_size=140), st.sampled_from([b"\x03\xe8", b"\x03", b"\x0f\xa0ok"])),
    ),
    max_size=10,
)


@given(frame_specs, st.sampled_from(Role), st.booleans(), st.lists(st.integers(0, 3000)))
def test_arbitrary_frame_sequences_only_produce_events_or_a_close(
    raw_frame: RawFrame,
    specs: list[tuple[int, bool, int, bool, bytes]],
    role: Role,
    compress: bool,
    cuts: list[int],
) -> None:
    wire = b"".join(
        raw_frame(opcode, payload, fin=fin, rsv=rsv, mask=b"abcd" if masked else None)
        for opcode, fin, rsv, masked, payload in specs
    )
    conn = WebSocketConnection(
        role, deflate=DeflateParams() if compress else None, max_message_size=300
    )
    check_never_raises(conn, split(wire, cuts))
