"""The client against npm socket.io 4.8 and against siox, over every transport: the basics."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import siox
from client.peers import FAST, TRANSPORTS

pytestmark = pytest.mark.timeout(20)


@pytest.fixture(params=list(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_client(peer: Any, transport: str, **options: Any) -> siox.Client:
    return siox.Client(peer.url, transports=TRANSPORTS[transport], **{**FAST, **options})


async def test_emit_with_ack_returns_none_value_or_tuple_and_binary_anywhere(
    peer: Any, transport: str
) -> None:
    client = make_client(peer, transport)
    socket = client.socket("/")
    try:
        await socket.connect(timeout=5)
        assert socket.connected and socket.id
        assert await socket.emit_with_ack("echo", timeout=5) is None
        assert await socket.emit_with_ack("echo", "one", timeout=5) == "one"
        assert await socket.emit_with_ack("echo", 1, [2], {"3": None}, timeout=5) == (
            1,
            [2],
            {"3": None},
        )
        nested = {"a": [b"\x00\x01", {"b": b"\xff" * 1000}], "s": "\u00e9\U0001f600"}
        assert await socket.emit_with_ack("echo", b"top", nested, timeout=5) == (b"top", nested)
    finally:
        await client.close()
    assert not socket.connected


async def test_upgrade_switches_to_websocket(peer: Any) -> None:
    client = make_client(peer, "upgrade")
    socket = client.socket("/")
    try:
        await socket.connect(timeout=5)
        for _ in range(100):
            if client.transport == "websocket":
                break
            await asyncio.sleep(0.02)
        assert client.transport == "websocket"
        info = await socket.emit_with_ack("info", timeout=5)
        assert info["transport"] == "websocket"
        assert await socket.emit_with_ack("echo", b"after", timeout=5) == b"after"
    finally:
        await client.close()


async def test_server_events_reach_handlers_and_handler_results_ack_them(
    peer: Any, transport: str
) -> None:
    client = make_client(peer, transport)
    socket = client.socket("/", auth={"user": "ann"})
    welcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    seen: list[Any] = []

    @socket.on("welcome")
    def on_welcome(data: Any) -> None:
        welcome.set_result(data)

    @socket.on("question")
    async def on_question(a: Any, b: Any) -> Any:
        await asyncio.sleep(0)
        return (a + b, "sum")

    @socket.on("ping-me")
    def on_ping() -> None:
        return None

    socket.on_any(lambda *args: seen.append(args))
    try:
        await socket.connect(timeout=5)
        assert (await asyncio.wait_for(welcome, 5))["auth"] == {"user": "ann"}
        answer = await socket.emit_with_ack("ask", {"event": "question", "args": [2, 3]}, timeout=5)
        assert answer == {"reply": [5, "sum"]}
        assert await socket.emit_with_ack("ask", {"event": "ping-me"}, timeout=5) == {"reply": []}
        assert ("question", 2, 3) in seen
    finally:
        await client.close()


async def test_wait_for_and_echoed_events(peer: Any, transport: str) -> None:
    client = make_client(peer, transport)
    socket = client.socket("/")
    outgoing: list[Any] = []
    socket.on_any_outgoing(lambda *args: outgoing.append(args))
    try:
        await socket.connect(timeout=5)
        waiter = asyncio.ensure_future(socket.wait_for("echo-back", timeout=5))
        await socket.emit("echo-back", "x", b"y")
        assert await waiter == ("x", b"y")
        with pytest.raises(TimeoutError):
            await socket.wait_for("never", timeout=0.1)
        assert ("echo-back", "x", b"y") in outgoing
    finally:
        await client.close()


async def test_ack_timeout_raises_ack_timeout(peer: Any) -> None:
    client = make_client(peer, "websocket")
    socket = client.socket("/")
    try:
        await socket.connect(timeout=5)
        with pytest.raises(siox.AckTimeout):
            await socket.emit_with_ack("nobody-answers", timeout=0.2)
        assert await socket.emit_with_ack("echo", 1, timeout=5) == 1  # still usable
    finally:
        await client.close()


async def test_namespaces_are_multiplexed_over_one_connection(peer: Any, transport: str) -> None:
    client = make_client(peer, transport)
    main, chat = client.socket("/"), client.socket("/chat")
    try:
        await main.connect(timeout=5)
        await chat.connect(timeout=5)
        sid = client.sid
        assert (await chat.emit_with_ack("info", timeout=5))["nsp"] == "/chat"
        assert (await main.emit_with_ack("info", timeout=5))["nsp"] == "/"
        news = asyncio.ensure_future(chat.wait_for("news", timeout=5))
        await chat.emit("broadcast", "news", 42)
        assert await news == 42
        assert client.sid == sid
        await chat.disconnect()
        assert not chat.connected and main.connected
        assert await main.emit_with_ack("echo", "still", timeout=5) == "still"
    finally:
        await client.close()


async def test_refused_namespace_raises_connection_refused_with_data(
    peer: Any, transport: str
) -> None:
    client = make_client(peer, transport)
    errors: list[BaseException] = []
    bad = client.socket("/private", auth={"token": "wrong"})
    bad.on("connect_error", errors.append)
    try:
        with pytest.raises(siox.ConnectionRefused) as info:
            await bad.connect(timeout=5)
        assert info.value.message == "not authorized"
        assert info.value.data == {"reason": "bad token"}
        assert errors == [info.value]
        assert not bad.active
        good = client.socket("/private", auth={"token": "secret"})
        await good.connect(timeout=5)
        assert (await good.emit_with_ack("info", timeout=5))["auth"] == {"token": "secret"}
    finally:
        await client.close()


async def test_server_kick_gives_io_server_disconnect_and_no_reconnection(
    peer: Any, transport: str
) -> None:
    client = make_client(peer, transport)
    socket = client.socket("/")
    reasons: list[str] = []
    disconnected = asyncio.Event()

    @socket.on("disconnect")
    def on_disconnect(reason: str) -> None:
        reasons.append(reason)
        disconnected.set()

    try:
        await socket.connect(timeout=5)
        await socket.emit("kick")
        await asyncio.wait_for(disconnected.wait(), 5)
        assert reasons == ["io server disconnect"]
        await asyncio.sleep(0.3)
        assert not socket.connected and not socket.active
        assert not client.connected  # no socket left: the connection closed
        await socket.connect(timeout=5)  # an explicit connect works again
        assert socket.connected
    finally:
        await client.close()


async def test_client_disconnect_reason_and_pending_acks_fail(peer: Any) -> None:
    client = make_client(peer, "websocket")
    socket = client.socket("/")
    reasons: list[Any] = []
    socket.on("disconnect", lambda reason, description: reasons.append((reason, description)))
    try:
        await socket.connect(timeout=5)
        pending = asyncio.ensure_future(socket.emit_with_ack("nobody-answers"))
        await asyncio.sleep(0.05)
        await socket.disconnect()
        with pytest.raises(siox.NotConnected):
            await pending
        assert reasons == [("io client disconnect", None)]
    finally:
        await client.close()


async def test_emits_before_connect_are_buffered_and_volatile_ones_dropped(peer: Any) -> None:
    client = make_client(peer, "websocket")
    socket = client.socket("/")
    got: list[Any] = []
    socket.on("echo-back", lambda *args: got.append(args))
    try:
        await socket.emit("echo-back", "buffered")
        await socket.volatile.emit("echo-back", "volatile")
        await socket.connect(timeout=5)
        await socket.emit("echo-back", "last")
        for _ in range(100):
            if len(got) >= 2:
                break
            await asyncio.sleep(0.02)
        assert got == [("buffered",), ("last",)]
    finally:
        await client.close()


async def test_reserved_and_bad_event_names_are_refused_locally(peer: Any) -> None:
    client = make_client(peer, "websocket")
    socket = client.socket("/")
    with pytest.raises(ValueError, match="reserved"):
        await socket.emit("connect")
    with pytest.raises(TypeError):
        await socket.emit(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await socket.emit("x", object())
    await client.close()


async def test_connect_context_manager_and_url_path_namespace(peer: Any) -> None:
    async with siox.connect(peer.url, transports=("websocket",), wait_timeout=5) as socket:
        assert socket.nsp == "/"
        assert await socket.emit_with_ack("echo", 5, timeout=5) == 5
    assert not socket.connected
    async with siox.connect(f"{peer.url}/chat", auth={"k": 1}, wait_timeout=5) as chat:
        info = await chat.emit_with_ack("info", timeout=5)
        assert info["nsp"] == "/chat"
        assert info["auth"] == {"k": 1}
    socket = await siox.connect(peer.url, namespace="/chat", wait_timeout=5)
    assert socket.nsp == "/chat" and socket.connected
    await socket.client.close()
