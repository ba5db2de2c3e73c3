"""Issue 11, the everyday server API: ``socket.timeout/compress/send/use``, ``sio.use_event``,
``new_namespace``, listener management, ``generate_id``, ``initial_packet``,
``add_trailing_slash`` and ``connection_error`` (siox.testing's pair, or the engine in memory).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import siox
from siox.parser import Packet
from siox.server.engine_api import EngineConnection, Timers
from siox.server.http_types import HttpRequest
from siox.server.namespace import Namespace
from siox.server.outgoing import Outgoing
from siox.server.socket import Handshake, Socket
from siox.testing import TestServer


async def _server_socket(sio: siox.Server, server: TestServer, namespace: str = "/") -> Any:
    client = await server.connect(namespace)
    return client, sio.of(namespace).sockets[client.id or ""]


async def test_socket_timeout_emit_with_ack_gets_the_reply_or_times_out() -> None:
    sio = siox.Server()
    async with TestServer(sio) as server:
        client, socket = await _server_socket(sio, server)
        client.on("ask")(lambda n: n * 2)
        assert await socket.timeout(5.0).emit_with_ack("ask", 21) == 42
        pending = asyncio.ensure_future(socket.timeout(5.0).emit_with_ack("unanswered"))
        await server.settle()
        server.advance(4.9)
        await server.settle()
        assert not pending.done()
        server.advance(0.2)
        await server.settle()
        with pytest.raises(siox.AckTimeout):
            await pending


async def test_socket_send_is_the_message_event_both_ways() -> None:
    sio = siox.Server()
    got: list[Any] = []
    sio.on("message", lambda socket, *args: got.append(args))
    async with TestServer(sio) as server:
        client, socket = await _server_socket(sio, server)
        await socket.send("hello", 1)
        assert await client.wait_for("message") == ("hello", 1)
        await socket.compress(False).send("again")
        assert await client.wait_for("message") == ("again",)
        await client.emit("message", "from the client")
        await server.settle()
        assert got == [("from the client",)]


class _RecordingDriver:
    """A connection that keeps what the socket writes, with the write flags (an in-memory peer)."""

    def __init__(self) -> None:
        self.writes: list[tuple[list[str | bytes], bool, bool]] = []

    @property
    def conn(self) -> EngineConnection:
        raise NotImplementedError

    @property
    def timers(self) -> Timers:
        return asyncio.get_running_loop()

    @property
    def parser_key(self) -> object:
        return 5

    @property
    def caps(self) -> siox.options.Caps:
        return siox.options.DEFAULT_CAPS

    def encode(self, packet: Packet) -> list[str | bytes]:
        return siox.parser.encode(packet)

    def write(
        self, messages: list[str | bytes], *, volatile: bool = False, compress: bool = True
    ) -> None:
        self.writes.append((messages, volatile, compress))

    def write_outgoing(self, outgoing: Outgoing) -> None:
        self.writes.append((outgoing.messages, outgoing.volatile, True))

    def notify_outgoing(self, socket: Socket, args: list[Any]) -> None:
        pass

    def leave_namespace(self, socket: Socket) -> None:
        pass

    def close_all(self, reason: str) -> None:
        pass


async def test_socket_compress_flag_travels_to_the_connection_write() -> None:
    driver = _RecordingDriver()
    namespace = Namespace("/", siox.adapters.InMemoryAdapter)
    socket = Socket(driver, namespace, "sid1", Handshake())
    socket.connected = True
    await socket.compress(False).emit("held", 1)  # before the CONNECT reply: held back
    socket.release()
    await socket.emit("plain", 2)
    await socket.compress(False).timeout(1.0).emit("chained", 3)
    assert [(m[0], c) for m, _, c in driver.writes] == [
        ('2["held",1]', False),
        ('2["plain",2]', True),
        ('2["chained",3]', False),
    ]


async def test_socket_use_runs_before_each_event_of_that_socket_only() -> None:
    sio = siox.Server()
    seen: list[Any] = []
    errors: list[BaseException] = []
    sio.on_error(errors.append)
    sio.on("chat", lambda socket, text: seen.append((socket.data.get("name"), text)))

    @sio.on("connect")
    def connect(socket: siox.Socket, auth: dict[str, Any]) -> None:
        socket.data["name"] = auth.get("name")
        if auth.get("name") == "ann":

            @socket.use
            async def check(socket: siox.Socket, args: list[Any]) -> None:
                if args[1] == "bad":
                    raise ValueError("no bad words")
                args[1] = args[1].upper()

    async with TestServer(sio) as server:
        ann = await server.connect(auth={"name": "ann"})
        bob = await server.connect(auth={"name": "bob"})
        await ann.emit("chat", "hi")
        await ann.emit("chat", "bad")
        await bob.emit("chat", "bad")
        await server.settle()
    assert sorted(seen) == [("ann", "HI"), ("bob", "bad")]
    assert [str(e) for e in errors] == ["no bad words"]


async def test_use_event_on_the_server_is_the_main_namespace_event_middleware() -> None:
    sio = siox.Server()
    seen: list[str] = []

    @sio.use_event
    def log(socket: siox.Socket, args: list[Any]) -> None:
        seen.append(args[0])

    sio.on("ping-me", lambda socket: "pong")
    async with TestServer(sio) as server:
        client = await server.connect()
        assert await client.emit_with_ack("ping-me") == "pong"
    assert seen == ["ping-me"]


async def test_new_namespace_event_names_each_namespace_created() -> None:
    import re

    sio = siox.Server()
    created: list[str] = []

    @sio.on("new_namespace")
    def new_namespace(namespace: siox.Namespace) -> None:
        created.append(namespace.name)

    sio.of("/chat")
    sio.of("/chat")  # already there: no event
    sio.of(re.compile(r"/team-\d+"))
    async with TestServer(sio) as server:
        await server.connect("/team-7")
    assert created == ["/chat", "/team-7"]
    assert "new_namespace" not in sio.of("/").handlers
    with pytest.raises(TypeError):

        @sio.on("new_namespace")
        async def not_async(namespace: siox.Namespace) -> None: ...


async def test_once_off_and_listeners_on_a_namespace() -> None:
    sio = siox.Server()
    calls: list[str] = []

    def first(socket: siox.Socket) -> str:
        calls.append("first")
        return "once"

    def anything(socket: siox.Socket, event: str, *args: Any) -> None:
        calls.append(f"any:{event}")

    def outgoing(socket: siox.Socket, event: str, *args: Any) -> None:
        calls.append(f"out:{event}")

    sio.once("hit", first)
    sio.on_any(anything)
    sio.on_any_outgoing(outgoing)
    assert sio.listeners("hit") == [first]
    async with TestServer(sio) as server:
        client, socket = await _server_socket(sio, server)
        assert await client.emit_with_ack("hit") == "once"
        await client.emit("hit")  # removed after its first call
        await server.settle()
        assert sio.listeners("hit") == []
        sio.on("other", first)
        sio.off("other", anything)  # not that handler: kept
        assert sio.listeners("other") == [first]
        sio.off("other")
        assert sio.listeners("other") == []
        sio.off_any(anything)
        await socket.emit("down", 1)
        sio.off_any_outgoing()
        await socket.emit("down", 2)
        await client.emit("hit")
        await server.settle()
    assert calls == ["any:hit", "first", "any:hit", "out:down"]


async def test_once_on_the_connect_event_keeps_the_auth_argument() -> None:
    sio = siox.Server()
    auths: list[Any] = []

    @sio.once("connect")
    def connect(socket: siox.Socket, auth: dict[str, Any]) -> None:
        auths.append(auth)

    async with TestServer(sio) as server:
        await server.connect(auth={"n": 1})
        await server.connect(auth={"n": 2})
    assert auths == [{"n": 1}]


async def test_generate_id_chooses_the_engine_session_ids() -> None:
    counter = iter(range(100))

    async def generate_id(request: HttpRequest) -> str:
        return f"custom-{next(counter)}"

    sio = siox.Server(generate_id=generate_id)
    async with TestServer(sio) as server:
        await server.connect()
        await server.connect()
        assert sorted(sio.connections) == ["custom-0", "custom-1"]


def _request(engine: siox.EngineServer, query: str, method: str = "GET") -> HttpRequest:
    return HttpRequest(method, engine.path, query, {"host": "testserver"}, address="127.0.0.1")


async def test_initial_packet_follows_the_open_packet() -> None:
    engine = siox.EngineServer(initial_packet="welcome")
    opened: list[str] = []
    engine.on("connect", lambda session: opened.append(session.sid))
    handshake = await engine.handle_http(_request(engine, "EIO=4&transport=polling"))
    assert handshake.body.startswith(b"0{")
    sid = json.loads(handshake.body[1:])["sid"]
    assert opened == [sid]
    following = await engine.handle_http(_request(engine, f"EIO=4&transport=polling&sid={sid}"))
    assert following.body == b"4welcome"
    await engine.shutdown(0.1)


async def test_connection_error_reports_refused_requests() -> None:
    engine = siox.Server().engine
    errors: list[tuple[str, int | None, str]] = []

    @engine.on("connection_error")
    def connection_error(error: siox.ProtocolError, request: HttpRequest) -> None:
        errors.append((error.message, error.http_status, request.query_string))

    response = await engine.handle_http(_request(engine, "EIO=4&transport=polling&sid=nope"))
    assert response.status == 400
    assert errors == [("Session ID unknown", 400, "EIO=4&transport=polling&sid=nope")]


def test_add_trailing_slash_decides_which_path_is_served_and_requested() -> None:
    default = siox.EngineServer(path="/eio")
    assert default.handles("/eio/") and default.handles("/eio")
    exact = siox.EngineServer(path="/eio", add_trailing_slash=False)
    assert exact.handles("/eio") and not exact.handles("/eio/")
    assert siox.Server(add_trailing_slash=False, path="/sio").engine.path == "/sio"
    assert siox.Client("http://h", path="/sio").endpoint.path == "/sio/"
    client = siox.Client("http://h", path="/sio", add_trailing_slash=False)
    assert client.endpoint.path == "/sio"
