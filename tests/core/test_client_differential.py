"""Differential tests of the client's fast paths: the same answers with them on and off.

A `ClientConnection` is driven as `siox.client.engine.EngineClient` drives it: a WebSocket
message through ``receive_ws_message`` (whose Socket.IO events, when the fast paths hand them
back, are dispatched without pumping), a polling response, a POST done, a WebSocket attached,
a timer, a clock advance alone (a late event loop), an emit (one message through
``send_direct``, as `EngineClient.send` does), a namespace asked for, a close; then it is
pumped (outputs, then events, each `MessageReceived` through ``decode``). After every input
both connections must have given identical Socket.IO events, outputs, deadlines and state.

The client role of `WebSocketConnection` reads a server's (unmasked) frames on the whole-frame
fast path too: the events, state and bytes to send must not depend on the switch, however the
reads are cut.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from hypothesis import example, given, settings, strategies as st

from fastswitch import fast_paths, plain
from siox.core import ClientConnection
from siox.engineio.events import MessageReceived
from siox.engineio.handshake import Transport
from siox.engineio.outputs import WebSocketSend
from siox.http.frames import Opcode, encode_frame
from siox.http.websocket import Role, TextMessage, WebSocketConnection
from siox.socketio.events import AckReceived, Connected
from siox.socketio.parsers import resolve_parser

MAX_PAYLOAD = 96  # the OPEN packet fits; some messages do not
OPEN = '0{"sid":"E","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200}'


socketio_packets = st.sampled_from(
    [
        '0{"sid":"S1"}',
        '0/chat,{"sid":"S2"}',
        '0/chat,{"sid":"S2","pid":"P"}',
        '2["news",1]',
        '21["ask","é"]',
        '2/chat,["news"]',
        '2/nope,["news"]',
        "3[1]",
        "30[]",
        '31["a",2]',
        "3/chat,0[]",
        "3",
        '51-["news",{"_placeholder":true,"num":0}]',
        "1",
        "1/chat,",
        '4{"message":"no"}',
        "2[]",
        '2["a"',
        '2["connect"]',
        "9",
    ]
)
texts = (
    socketio_packets
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=6)
    | st.sampled_from(['2["' + "x" * 12 + '"]', '2["' + "€" * 20 + '"]', '2["' + "€" * 40 + '"]'])
)
blobs = st.binary(max_size=6)
ws_frames = st.one_of(
    *[socketio_packets.map(lambda t: "4" + t)] * 6,
    texts.map(lambda t: "4" + t),
    blobs,
    blobs.map(lambda b: "b4" + base64.b64encode(b).decode()),
    st.sampled_from([OPEN, "2", "3", "3probe", "6", "1", ""]),
)
inputs = st.one_of(
    *[st.tuples(st.just("ws"), ws_frames)] * 8,
    *[st.tuples(st.just("advance"), st.sampled_from([0.01, 0.1, 0.2, 0.35, 0.6]))] * 3,
    st.tuples(st.just("timer"), st.none()),
    *[st.tuples(st.just("emit"), texts)] * 2,
    st.tuples(st.just("join"), st.sampled_from(["/", "/chat"])),
    st.tuples(
        st.just("poll"),
        st.sampled_from([OPEN, "6", "2", "40", '42["news"]', '4431["x"]', "1", "x"]),
    ),
    st.tuples(st.just("posted"), st.none()),
    st.tuples(st.just("attach"), st.none()),
    st.tuples(st.just("close"), st.none()),
)


class ClientPeer:
    """A `ClientConnection` driven as `EngineClient` and `siox.Client` drive it."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.written: list[Any] = []
        self.socketio: list[Any] = []
        self.ack_id = 0

    def send(self, messages: Sequence[str | bytes]) -> None:
        conn = self.conn
        if len(messages) == 1:
            frame = conn.send_direct(messages[0])
            if frame is not None:
                self.written.append(WebSocketSend(frame))
        else:
            for message in messages:
                conn.send(message)

    def pump(self) -> None:
        while (pending := self.conn.drain()) is not None:
            outputs, events = pending
            self.written += outputs
            for event in events:
                if type(event) is MessageReceived:
                    self.socketio += plain(self.conn.decode(event.data))
                else:
                    self.socketio.append(event)

    def observe(self, kind: str, arg: Any, now: float, enabled: bool) -> Any:
        with fast_paths(enabled):
            conn = self.conn
            self.written, self.socketio = [], []
            result: Any = None
            try:
                if kind == "ws":
                    events = conn.receive_ws_message(arg, now)
                    if events is not None:
                        self.socketio += plain(events)
                elif kind == "timer":
                    conn.handle_timer(now)
                elif kind == "emit":
                    self.ack_id += 1
                    self.send(conn.socketio.event("/", ["news", arg], self.ack_id))
                elif kind == "join":
                    messages = conn.join(arg, None)
                    if messages:
                        self.send(messages)
                elif kind == "poll":
                    conn.receive_polling_response(arg, "text/plain; charset=UTF-8", now)
                elif kind == "posted":
                    conn.polling_post_done(now)
                elif kind == "attach":
                    conn.attach_websocket(now)
                else:
                    assert kind == "close"
                    conn.close(now=now)
            except Exception as exc:  # the exception is part of the answer
                result = (type(exc), str(exc))
            self.pump()
            return (
                result,
                self.written,
                self.socketio,
                conn.next_deadline(),
                conn.state,
                conn.transport,
                sorted(conn.socketio.connected),
                sorted(conn.socketio.pending),
            )


_READY = [("attach", None), ("ws", OPEN), ("join", "/"), ("ws", '40{"sid":"S1"}')]
_READY_POLLING = [("poll", OPEN), ("join", "/"), ("poll", '40{"sid":"S1"}')]


@settings(max_examples=300, deadline=None)
@example(Transport.WEBSOCKET, 4, False, [*_READY, ("emit", "a"), ("ws", '431["a"]')])
@example(Transport.WEBSOCKET, 4, False, [*_READY, ("advance", 0.6), ("ws", '42["a"]')])  # timed out
@example(Transport.WEBSOCKET, 4, False, [*_READY, ("ws", "4" + '2["' + "€" * 20 + '"]')])
@example(Transport.WEBSOCKET, 4, False, [*_READY, ("ws", "4" + '2["' + "€" * 40 + '"]')])
@example(Transport.WEBSOCKET, 4, False, [*_READY, ("ws", "2"), ("ws", '42["a"]'), ("ws", b"\x01")])
@example(
    Transport.WEBSOCKET, 3, False, [*_READY, ("ws", '42["a"]'), ("advance", 0.35), ("timer", None)]
)
@example(Transport.WEBSOCKET, 4, False, [*_READY, ("ws", '42/chat,["a"]'), ("ws", "431[]")])
@example(Transport.POLLING, 4, False, [("poll", OPEN), ("attach", None), ("ws", "3probe")])
@given(
    transport=st.sampled_from([Transport.WEBSOCKET, Transport.WEBSOCKET, Transport.POLLING]),
    eio=st.sampled_from([4, 4, 3]),
    opened=st.booleans(),
    steps=st.lists(inputs, min_size=5, max_size=40),
)
def test_client_connections_with_and_without_fast_paths_answer_alike(
    transport: Transport, eio: int, opened: bool, steps: list[tuple[str, Any]]
) -> None:
    def new_peer(enabled: bool) -> ClientPeer:
        with fast_paths(enabled):
            conn = ClientConnection(
                parser=resolve_parser("default", protocol=5 if eio == 4 else 4),
                now=0.0,
                transport=transport,
                eio=eio,
                upgrade_timeout=0.5,
                close_timeout=0.4,
                max_payload=MAX_PAYLOAD,
                max_buffer_size=400,
            )
        return ClientPeer(conn)

    fast, slow = new_peer(True), new_peer(False)
    if opened:  # most inputs matter once open and joined: start there half of the time
        steps = [*(_READY if transport is Transport.WEBSOCKET else _READY_POLLING), *steps]
    now = 0.0
    assert fast.observe("timer", None, now, True) == slow.observe("timer", None, now, False)
    for kind, arg in steps:
        if kind == "advance":
            now = round(now + arg, 6)
            continue
        assert fast.observe(kind, arg, now, True) == slow.observe(kind, arg, now, False), (
            kind,
            arg,
            now,
        )


def test_a_steady_websocket_ack_comes_out_decoded_at_once() -> None:
    # The differential test is only meaningful if the fast paths run: check they do, here.
    conn = ClientConnection(
        parser=resolve_parser("default"), now=0.0, transport=Transport.WEBSOCKET
    )
    conn.attach_websocket(0.0)
    assert conn.receive_ws_message(OPEN, 0.0) is None
    conn.drain()
    assert conn.join("/", None) == ["0"]
    with fast_paths(True):
        assert conn.receive_ws_message('40{"sid":"S1"}', 0.1) == [Connected("/", "S1", None)]
        assert conn.send_direct('20["hi"]') == '420["hi"]'
        assert conn.receive_ws_message('430["hi"]', 0.2) == [AckReceived("/", 0, ["hi"])]
    with fast_paths(False):
        assert conn.send_direct('21["hi"]') is None  # queued for the pump
        assert conn.receive_ws_message('431["hi"]', 0.2) is None
        pending = conn.drain()
        assert pending is not None
        assert pending[0] == [WebSocketSend('421["hi"]')]
        assert pending[1] == [MessageReceived('31["hi"]')]


# -- the client role of WebSocketConnection ---------------------------------------------------

KEY = b"\x01\x02\x03\x04"
server_frames = st.one_of(
    *[st.text(max_size=8).map(lambda t: encode_frame(Opcode.TEXT, t.encode()))] * 4,
    *[st.binary(max_size=8).map(lambda b: encode_frame(Opcode.BINARY, b))] * 2,
    st.integers(126, 300).map(lambda n: encode_frame(Opcode.TEXT, b"y" * n)),
    st.just(bytes([0x81, 127]) + (3).to_bytes(8, "big") + b"abc"),  # a 64-bit length
    st.just(encode_frame(Opcode.TEXT, b"\xff\xfe")),  # not UTF-8: 1007
    st.just(encode_frame(Opcode.TEXT, b"ab", mask_key=KEY)),  # a masked server frame: 1002
    # masked and empty, with a key that reads as two empty text frames if taken for frames
    st.just(encode_frame(Opcode.TEXT, b"", mask_key=b"\x81\x00\x81\x00")),
    st.just(encode_frame(Opcode.TEXT, b"ab", fin=False)),
    st.just(encode_frame(Opcode.CONTINUATION, b"cd")),
    st.just(encode_frame(Opcode.PING, b"p")),
    st.just(encode_frame(Opcode.PONG, b"")),
    st.just(encode_frame(Opcode.CLOSE, b"\x03\xe8bye")),
    st.just(bytes([0x81 | 0x40, 1]) + b"z"),  # RSV1 without deflate
    st.just(bytes([0x83, 0])),  # a reserved opcode
    st.just(bytes([0x81, 126, 0, 3]) + b"abc"),  # a non-minimal 16-bit length
)


@settings(max_examples=300, deadline=None)
@given(
    frames=st.lists(server_frames, min_size=1, max_size=8),
    cuts=st.lists(st.integers(0, 400), max_size=4),
    limit=st.sampled_from([None, 100, 65_536]),
)
def test_client_websocket_reads_alike_with_and_without_the_whole_frame_path(
    frames: list[bytes], cuts: list[int], limit: int | None
) -> None:
    stream = b"".join(frames)
    points = sorted({min(cut, len(stream)) for cut in cuts})
    reads = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]

    def run(enabled: bool) -> list[Any]:
        with fast_paths(enabled):
            conn = WebSocketConnection(
                Role.CLIENT, max_message_size=limit, random_bytes=lambda n: KEY[:n]
            )
            seen: list[Any] = []
            for read in reads:
                seen.append((conn.receive_data(read), conn.data_to_send(), conn.state))
            return seen

    assert run(True) == run(False)


def test_the_client_websocket_takes_whole_frames_on_the_fast_path() -> None:
    conn = WebSocketConnection(Role.CLIENT)
    read = encode_frame(Opcode.TEXT, "héllo".encode()) + encode_frame(Opcode.TEXT, b"z" * 300)
    with fast_paths(True):
        events: list[Any] = []
        assert conn._whole_frames(read, events) == len(read)  # every byte taken
        assert events == [TextMessage("héllo"), TextMessage("z" * 300)]
        # A masked frame is not a server's: nothing consumed, the general path decides.
        masked: list[Any] = []
        assert conn._whole_frames(encode_frame(Opcode.TEXT, b"ab", mask_key=KEY), masked) == 0
        assert masked == []
