"""Socket.IO server behaviour over a raw WebSocket peer: namespaces, middleware, acks, rooms,
broadcasts, disconnects, and the parser/namespace hostile rows at the server level."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import siox
from rawpeer import RawWebSocket, collect_errors, eio_url, running, websocket, ws_connect_sio


def payload(message: str | bytes) -> Any:
    assert isinstance(message, str)
    start = min(i for i in (message.find("["), message.find("{")) if i >= 0)
    return json.loads(message[start:])


async def test_connect_handler_emits_after_the_connect_reply_and_sees_auth() -> None:
    sio = siox.Server()
    seen: list[Any] = []

    @sio.on("connect")
    async def connect(socket: siox.Socket, auth: dict[str, Any]) -> None:
        seen.append(auth)
        await socket.emit("hello", socket.id)

    async with running(sio) as port:
        peer = await websocket(port, eio_url("transport=websocket"))
        assert isinstance(peer, RawWebSocket)
        await peer.recv()
        await peer.send('40{"token":"t"}')
        reply = await peer.recv()
        assert isinstance(reply, str) and reply.startswith('40{"sid":')
        sid = payload(reply)["sid"]
        assert await peer.recv() == f'42["hello","{sid}"]'
        peer2, _ = await ws_connect_sio(port)
    assert seen == [{"token": "t"}, {}]


async def test_socket_id_differs_from_the_engine_sid() -> None:
    sio = siox.Server()
    async with running(sio) as port:
        peer = await websocket(port, eio_url("transport=websocket"))
        assert isinstance(peer, RawWebSocket)
        opened = await peer.recv()
        await peer.send("40")
        reply = await peer.recv()
        assert payload(reply)["sid"] != payload(opened)["sid"]


async def test_event_handler_return_value_is_the_ack() -> None:
    sio = siox.Server()

    @sio.on("none")
    def none(socket: siox.Socket) -> None:
        return None

    @sio.on("one")
    async def one(socket: siox.Socket, x: int) -> int:
        return x + 1

    @sio.on("many")
    async def many(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('421["none"]')
        assert await peer.recv() == "431[]"
        await peer.send('422["one",41]')
        assert await peer.recv() == "432[42]"
        await peer.send('423["many",1,"a"]')
        assert await peer.recv() == '433[1,"a"]'


async def test_binary_event_is_acked_with_binary() -> None:
    sio = siox.Server()

    @sio.on("echo")
    def echo(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send(
            '452-789["echo",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
        )
        await peer.send(b"\x01\x02")
        await peer.send(b"\x03")
        assert await peer.recv() == (
            '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
        )
        assert await peer.recv() == b"\x01\x02"
        assert await peer.recv() == b"\x03"


async def test_large_binary_attachments_in_flight_are_echoed_byte_for_byte() -> None:
    """Large frames are collected read by read and written after their header unjoined."""
    sio = siox.Server(max_http_buffer_size=1_000_000)

    @sio.on("echo")
    def echo(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    blobs = [
        bytes((i * 7 + n) % 256 for i in range(size))
        for n, size in enumerate([70_000, 300_001, 16_384, 5])
    ]
    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        for n, blob in enumerate(blobs):
            await peer.send(f'451-{n}["echo",{{"_placeholder":true,"num":0}},"tag{n}"]')
            await peer.send(blob)
        for n, blob in enumerate(blobs):
            assert await peer.recv() == f'461-{n}[{{"_placeholder":true,"num":0}},"tag{n}"]'
            assert await peer.recv() == blob


async def test_server_emit_with_ack_and_timeout() -> None:
    sio = siox.Server()
    results: list[Any] = []

    @sio.on("start")
    async def start(socket: siox.Socket) -> None:
        results.append(await socket.emit_with_ack("q", 1, timeout=2))
        try:
            await socket.emit_with_ack("q", 2, timeout=0.2)
        except siox.AckTimeout:
            results.append("timeout")

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('42["start"]')
        first = await peer.recv()
        assert first == '420["q",1]'
        await peer.send('430["a",2]')
        assert await peer.recv() == '421["q",2]'
        await asyncio.sleep(0.4)
        await peer.send('431["late"]')  # after the timeout: ignored
    assert results == [("a", 2), "timeout"]


async def test_pending_ack_fails_with_not_connected_on_disconnect() -> None:
    sio = siox.Server()
    outcome: list[Any] = []

    @sio.on("start")
    async def start(socket: siox.Socket) -> None:
        try:
            await socket.emit_with_ack("q")
        except siox.NotConnected:
            outcome.append("not connected")

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('42["start"]')
        await peer.recv()
        await peer.send("41")
        await asyncio.sleep(0.2)
    assert outcome == ["not connected"]


async def test_rooms_broadcast_except_and_socket_to() -> None:
    sio = siox.Server()

    @sio.on("join")
    async def join(socket: siox.Socket, room: str) -> None:
        await socket.join(room)

    @sio.on("to")
    async def to(socket: siox.Socket, room: str) -> None:
        await socket.to(room).emit("from", socket.id)

    @sio.on("all-but")
    async def all_but(socket: siox.Socket, room: str) -> None:
        await sio.except_(room).emit("all-but")

    async with running(sio) as port:
        a, _ = await ws_connect_sio(port)
        b, sid_b = await ws_connect_sio(port)
        c, _ = await ws_connect_sio(port)
        for peer in (a, b):
            await peer.send('421["join","r"]')
            assert await peer.recv() == "431[]"
        await b.send('42["to","r"]')
        assert await a.recv() == f'42["from","{sid_b}"]'
        await c.send('42["all-but","r"]')
        assert await c.recv() == '42["all-but"]'
        with pytest.raises(TimeoutError):
            await b.recv(timeout=0.3)
        with pytest.raises(TimeoutError):
            await a.recv(timeout=0.1)


async def test_every_socket_is_in_its_own_room() -> None:
    sio = siox.Server()
    rooms: list[frozenset[str]] = []

    @sio.on("connect")
    def connect(socket: siox.Socket) -> None:
        rooms.append(socket.rooms)

    async with running(sio) as port:
        peer, sid = await ws_connect_sio(port)
        await sio.to(sid).emit("direct")
        assert await peer.recv() == '42["direct"]'
    assert rooms == [frozenset({sid})]


async def test_broadcast_ack_collects_replies_and_reports_missing() -> None:
    sio = siox.Server()
    async with running(sio) as port:
        a, sid_a = await ws_connect_sio(port)
        b, sid_b = await ws_connect_sio(port)

        async def answer(peer: RawWebSocket) -> None:
            message = await peer.recv()
            assert isinstance(message, str)
            ack_id = message[2 : message.index("[")]
            await peer.send(f'43{ack_id}["yes"]')

        task = asyncio.create_task(answer(a))
        results = await sio.timeout(0.5).emit_with_ack("poll")
        await task
    assert results.replies == ["yes"]
    assert results.missing == 1
    assert results.by_socket == {sid_a: "yes"}
    assert results.timed_out == frozenset({sid_b})


async def test_namespaces_static_and_dynamic_and_unknown() -> None:
    sio = siox.Server()
    chat = sio.of("/chat")
    dynamic = sio.of(__import__("re").compile(r"/room-\d+"))
    joined: list[str] = []

    @chat.on("connect")
    def chat_connect(socket: siox.Socket) -> None:
        joined.append(socket.nsp)

    @dynamic.on("connect")
    def dynamic_connect(socket: siox.Socket) -> None:
        joined.append(socket.nsp)

    async with running(sio) as port:
        peer = await websocket(port, eio_url("transport=websocket"))
        assert isinstance(peer, RawWebSocket)
        await peer.recv()
        await peer.send("40/random")  # N01: no comma, unknown namespace
        assert await peer.recv() == '44/random,{"message":"Invalid namespace"}'
        await peer.send("40/chat,")
        assert (await peer.recv_text()).startswith('40/chat,{"sid":')
        await peer.send("40/room-12,")
        assert (await peer.recv_text()).startswith('40/room-12,{"sid":')
        await peer.send("40")
        assert (await peer.recv_text()).startswith('40{"sid":')
    assert joined == ["/chat", "/room-12"]


async def test_n07_middleware_refusal_with_data_and_generic_error() -> None:
    sio = siox.Server()
    errors = collect_errors(sio)
    admin = sio.of("/admin")
    broken = sio.of("/broken")
    order: list[str] = []

    @admin.use
    async def first(socket: siox.Socket, auth: dict[str, Any]) -> None:
        order.append("first")

    @admin.use
    async def second(socket: siox.Socket, auth: dict[str, Any]) -> None:
        order.append("second")
        raise siox.ConnectionRefused("nope", {"x": 1})

    @admin.on("connect")
    def never(socket: siox.Socket) -> None:
        order.append("connect")

    @broken.on("connect")
    def boom(socket: siox.Socket) -> None:
        raise RuntimeError("boom")

    async with running(sio) as port:
        peer = await websocket(port, eio_url("transport=websocket"))
        assert isinstance(peer, RawWebSocket)
        await peer.recv()
        await peer.send("40/admin,")
        assert await peer.recv() == '44/admin,{"message":"nope","data":{"x":1}}'
        await peer.send("40/broken,")
        assert await peer.recv() == '44/broken,{"message":"Internal server error"}'
        assert not admin.sockets and not broken.sockets
    assert order == ["first", "second"]
    assert [str(e) for e in errors] == ["boom"]


@pytest.mark.parametrize(
    "frame",
    [
        '42[{"toString":"foo"}]',
        '42[true,"x"]',
        "42[]",
        '42["connect"]',
        '42["disconnect","x"]',
        '451-["a",{"_placeholder":true,"num":"splice"}]',
        "42{}",
        "4abc",
        "47",
        "4",
        '40["a"]',
        '44{"message":"x"}',
        "42",
    ],
)
async def test_p_rows_bad_packets_close_the_connection_without_calling_handlers(frame: str) -> None:
    sio = siox.Server()
    calls: list[str] = []
    disconnects: list[str] = []

    @sio.on("connect")
    def connect(socket: siox.Socket) -> None:
        calls.append("connect")

    @sio.on("disconnect")
    def disconnect(socket: siox.Socket, reason: str) -> None:
        disconnects.append(reason)

    @sio.on_any
    def anything(socket: siox.Socket, *args: Any) -> None:
        calls.append("any")

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send(frame)
        if frame.startswith("451-"):
            await peer.send(b"\x01")
        await peer.closed()
        await asyncio.sleep(0.05)
    assert calls == ["connect"]
    assert len(disconnects) == 1


async def test_p03_error_event_without_handler_is_dropped() -> None:
    sio = siox.Server()
    errors = collect_errors(sio)
    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('42["error",{"x":1}]')
        await peer.send('421["ping?"]')  # unhandled with ack: no answer, connection alive
        await peer.send("2")  # v4 client ping: wrong direction
        await peer.closed()
    assert errors == []


async def test_n10_events_after_leaving_the_namespace_close_and_disconnect_runs_once() -> None:
    sio = siox.Server()
    disconnects: list[str] = []
    handled: list[str] = []

    @sio.on("x")
    def x(socket: siox.Socket) -> None:
        handled.append("x")

    @sio.on("disconnect")
    def disconnect(socket: siox.Socket, reason: str) -> None:
        disconnects.append(reason)

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send("41")
        await peer.send('42["x"]')
        await peer.closed()
        await asyncio.sleep(0.05)
    assert handled == []
    assert disconnects == ["client namespace disconnect"]


async def test_server_side_disconnect_sends_the_packet_and_reports_the_reason() -> None:
    sio = siox.Server()
    reasons: list[str] = []

    @sio.on("kick")
    async def kick(socket: siox.Socket) -> None:
        await socket.disconnect()

    @sio.on("disconnect")
    def disconnect(socket: siox.Socket, reason: str) -> None:
        reasons.append(reason)

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('42["kick"]')
        assert await peer.recv() == "41"
        await peer.send("40")  # the Engine.IO session is still usable
        assert (await peer.recv_text()).startswith('40{"sid"')
    assert reasons[0] == "server namespace disconnect"


async def test_n02_connect_timeout_closes_a_session_that_joins_nothing() -> None:
    sio = siox.Server(connect_timeout=0.3)
    async with running(sio) as port:
        peer = await websocket(port, eio_url("transport=websocket"))
        assert isinstance(peer, RawWebSocket)
        await peer.recv()
        started = asyncio.get_running_loop().time()
        await peer.closed(timeout=3)
        assert asyncio.get_running_loop().time() - started < 2
        assert not sio.connections


async def test_e10_silent_client_times_out_once_with_ping_timeout() -> None:
    sio = siox.Server(ping_interval=0.2, ping_timeout=0.2)
    reasons: list[str] = []

    @sio.on("disconnect")
    def disconnect(socket: siox.Socket, reason: str) -> None:
        reasons.append(reason)

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        assert await peer.recv() == "2"  # a ping, never answered
        await peer.closed(timeout=3)
        await asyncio.sleep(0.05)
    assert reasons == ["ping timeout"]


async def test_handler_errors_go_to_the_hook_and_the_connection_survives() -> None:
    sio = siox.Server()
    errors = collect_errors(sio)

    @sio.on("bad")
    async def bad(socket: siox.Socket) -> None:
        raise ValueError("handler bug")

    @sio.on("good")
    def good(socket: siox.Socket) -> str:
        return "fine"

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('42["bad"]')
        await peer.send('421["good"]')
        assert await peer.recv() == '431["fine"]'
    assert [type(e) for e in errors] == [ValueError]


async def test_handlers_of_one_client_run_in_order() -> None:
    sio = siox.Server()
    order: list[int] = []

    @sio.on("n")
    async def n(socket: siox.Socket, i: int) -> None:
        await asyncio.sleep(0.05 if i == 0 else 0)
        order.append(i)

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        for i in range(5):
            await peer.send(f'42["n",{i}]')
        await asyncio.sleep(0.3)
    assert order == [0, 1, 2, 3, 4]


async def test_catch_all_listeners_in_and_out() -> None:
    sio = siox.Server()
    incoming: list[Any] = []
    outgoing: list[Any] = []
    sio.on_any(lambda socket, *args: incoming.append(args))
    sio.on_any_outgoing(lambda socket, *args: outgoing.append(args))

    @sio.on("ping-me")
    async def ping_me(socket: siox.Socket) -> None:
        await socket.emit("pong", 1)

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('42["ping-me"]')
        assert await peer.recv() == '42["pong",1]'
    assert incoming == [("ping-me",)]
    assert outgoing == [("pong", 1)]


async def test_fetch_sockets_join_leave_and_disconnect_sockets() -> None:
    sio = siox.Server()
    async with running(sio) as port:
        a, sid_a = await ws_connect_sio(port)
        b, sid_b = await ws_connect_sio(port)
        assert {s.id for s in await sio.fetch_sockets()} == {sid_a, sid_b}
        await sio.sockets_join("vip")
        assert {s.id for s in await sio.in_("vip").fetch_sockets()} == {sid_a, sid_b}
        await sio.in_(sid_a).sockets_leave("vip")
        assert {s.id for s in await sio.in_("vip").fetch_sockets()} == {sid_b}
        await sio.in_("vip").disconnect_sockets()
        assert await b.recv() == "41"
        assert {s.id for s in await sio.fetch_sockets()} == {sid_a}


async def test_reserved_names_cannot_be_emitted() -> None:
    sio = siox.Server()
    with pytest.raises(ValueError, match="reserved"):
        await sio.emit("disconnect")


async def test_n06_connection_lost_mid_binary_packet_frees_state_and_disconnects_once() -> None:
    sio = siox.Server()
    reasons: list[str] = []
    calls: list[object] = []
    sio.on("disconnect", lambda socket, reason: reasons.append(reason))
    sio.on("up", lambda socket, *args: calls.append(args))
    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('452-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
        await peer.send(b"\x01")
        peer.writer.transport.abort()  # TCP reset with one attachment still missing
        await asyncio.sleep(0.2)
        assert sio.connections == {}
    assert reasons == ["transport close"]
    assert calls == []


@pytest.mark.parametrize("auth", ["big", "many"])
async def test_n08_huge_auth_objects_are_bounded(auth: str) -> None:
    sio = siox.Server()
    seen: list[int] = []

    @sio.on("connect")
    def connect(socket: siox.Socket, data: dict[str, Any]) -> None:
        seen.append(len(json.dumps(data)))

    payload = (
        json.dumps({"blob": "x" * 900_000})
        if auth == "big"
        else json.dumps({f"k{i}": i for i in range(10_000)})
    )
    async with running(sio) as port:
        peer = await websocket(port, eio_url("transport=websocket"))
        assert isinstance(peer, RawWebSocket)
        await peer.recv()
        started = asyncio.get_running_loop().time()
        await peer.send("40" + payload)
        reply = await peer.recv()
        assert isinstance(reply, str) and reply.startswith('40{"sid"')
        assert asyncio.get_running_loop().time() - started < 1.0
    assert seen == [len(payload)]
