"""Issue 11 items 5, 6 and 8, and ``send``/``timeout``, with the real socket.io-client@4 (tests/node/issue11_scenarios.js)
against siox servers served in-process on a free port."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

import siox
from legacy.node_run import needs_node, run_node
from rawpeer import running

pytestmark = [pytest.mark.interop, needs_node]

SCRIPT = "issue11_scenarios.js"


async def test_item5_socketio_client_connects_to_a_server_served_again() -> None:
    sio = siox.Server()

    @sio.on("echo")
    def echo(socket: siox.Socket, value: Any) -> Any:
        return value

    for _ in range(2):
        async with running(sio) as port:
            result = await run_node(SCRIPT, "echo", f"http://127.0.0.1:{port}")
        assert result == {"reply": 1}


async def test_item6_socket_emit_while_away_is_replayed_to_socketio_client() -> None:
    sio = siox.Server(connection_state_recovery=True)

    @sio.on("connect")
    async def connect(socket: siox.Socket) -> None:
        if not socket.recovered:
            await socket.emit("hello")

    @sio.on("disconnect")
    async def disconnect(socket: siox.Socket, reason: str) -> None:
        await socket.emit("while-away", reason)

    async with running(sio) as port:
        result = await run_node(SCRIPT, "away-emit", f"http://127.0.0.1:{port}")
    assert result["reason"] == "forced close"  # the client closed its transport
    assert result["recovered"] is True and result["same_id"] is True
    assert len(result["heard"]) == 1
    assert result["heard"][0][0] == "transport close"  # then the offset


async def test_item8_emit_to_an_undefined_namespace_leaves_it_undefined() -> None:
    sio = siox.Server()

    @sio.on("emit-typo")
    async def emit_typo(socket: siox.Socket) -> bool:
        await sio.emit("news", 1, namespace="/typo")
        return True

    async with running(sio) as port:
        result = await run_node(SCRIPT, "typo", f"http://127.0.0.1:{port}")
    assert result == {"error": "Invalid namespace"}
    assert "/typo" not in sio.namespaces


async def test_send_message_and_socket_timeout_with_socketio_client() -> None:
    sio = siox.Server()

    @sio.on("message")
    async def message(socket: siox.Socket, text: str, value: int) -> None:
        doubled = await socket.timeout(5.0).emit_with_ack("question", value)
        await socket.compress(False).send(text.replace("client", "server"), doubled)

    async with running(sio) as port:
        result = await run_node(SCRIPT, "message", f"http://127.0.0.1:{port}")
    assert result == {"text": "from server", "doubled": 42}


async def test_generate_id_and_add_trailing_slash_with_socketio_client() -> None:
    async def generate_id(request: Any) -> str:
        return "custom-engine-id"

    sio = siox.Server(path="/rt", add_trailing_slash=False, generate_id=generate_id)
    sio.on("echo", lambda socket, value: value)
    async with running(sio) as port:
        result = await run_node(SCRIPT, "engine-id", f"http://127.0.0.1:{port}")
    assert result == {"engine_id": "custom-engine-id", "reply": "custom-engine-id"}


async def test_item3_socketio_client_reads_compressed_and_uncompressed_messages() -> None:
    sio = siox.Server(per_message_deflate=True)
    big = "y" * 5000

    @sio.on("single")
    async def single(socket: siox.Socket, compress: bool) -> None:
        await socket.compress(compress).emit("big", big)

    @sio.on("broadcast")
    async def broadcast(socket: siox.Socket, compress: bool) -> None:
        await sio.compress(compress).emit("big", big)

    async with running(sio) as port:
        result = await run_node(SCRIPT, "compress", f"http://127.0.0.1:{port}")
    assert result == {"websocket": [5000] * 4, "polling": [5000] * 4}


async def test_item4_parent_namespace_operations_reach_socketio_client_children() -> None:
    sio = siox.Server()
    parent = sio.of(re.compile(r"/room-\w+"))
    later: list[asyncio.TimerHandle] = []
    tasks: set[asyncio.Task[None]] = set()

    def disconnect_all() -> None:
        task = asyncio.get_running_loop().create_task(parent.disconnect_sockets())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    @parent.on("connect")
    async def connect(socket: siox.Socket) -> None:
        if socket.nsp == "/room-a":
            await socket.join("vip")

    @parent.on("go")
    async def go(socket: siox.Socket) -> dict[str, Any]:
        await parent.to("vip").emit("only-vip")
        await parent.except_("vip").emit("not-vip")
        results = await parent.timeout(2).emit_with_ack("q")
        count = len(await parent.fetch_sockets())
        await parent.sockets_join("all")
        in_all = len(await parent.in_("all").fetch_sockets())
        # After this ack has left: the disconnect must not overtake it.
        later.append(asyncio.get_running_loop().call_later(0.05, disconnect_all))
        return {"replies": sorted(results.replies), "count": count, "in_all": in_all}

    async with running(sio) as port:
        result = await run_node(SCRIPT, "dynamic", f"http://127.0.0.1:{port}")
    assert result["reply"] == {"replies": ["/room-a", "/room-b"], "count": 2, "in_all": 2}
    heard = {name: [e for e in events if e[0] != "q"] for name, events in result["heard"].items()}
    assert heard == {"a": [["only-vip"]], "b": [["not-vip"]]}
    assert result["reasons"] == ["io server disconnect", "io server disconnect"]
