"""Namespaces, connect middlewares and the connect handler, over siox.testing's pair."""

from __future__ import annotations

from typing import Any

import pytest

import siox
from siox.testing import TestServer


async def test_middleware_refusal_reaches_the_client_with_its_data() -> None:
    sio = siox.Server()
    admin = sio.of("/admin")

    @admin.use
    async def check(socket: siox.Socket, auth: dict[str, Any]) -> None:
        if auth.get("token") != "secret":
            raise siox.ConnectionRefused("not allowed", {"code": 403})

    async with TestServer(sio) as server:
        with pytest.raises(siox.ConnectionRefused) as refused:
            await server.connect("/admin", auth={"token": "wrong"})
        assert refused.value.message == "not allowed"
        assert refused.value.data == {"code": 403}
        client = await server.connect("/admin", auth={"token": "secret"})
        assert client.connected


async def test_an_unknown_namespace_is_refused() -> None:
    async with TestServer(siox.Server()) as server:
        with pytest.raises(siox.ConnectionRefused, match="Invalid namespace"):
            await server.connect("/nowhere")


async def test_the_connect_handler_sees_auth_and_its_emits_follow_the_reply() -> None:
    sio = siox.Server()
    seen: list[dict[str, Any]] = []

    @sio.on("connect")
    async def connect(socket: siox.Socket, auth: dict[str, Any]) -> None:
        seen.append(auth)
        await socket.emit("welcome", socket.id)

    async with TestServer(sio) as server:
        client = await server.connect(auth={"name": "ada"})
        assert await client.wait_for("welcome") == (client.id,)
    assert seen == [{"name": "ada"}]


async def test_dynamic_namespaces_share_the_rules_handlers() -> None:
    sio = siox.Server()
    import re

    teams = sio.of(re.compile(r"/team-\d+"))

    @teams.on("where")
    def where(socket: siox.Socket) -> str:
        return socket.nsp

    async with TestServer(sio) as server:
        one = await server.connect("/team-1")
        two = await server.connect("/team-2")
        assert await one.emit_with_ack("where") == "/team-1"
        assert await two.emit_with_ack("where") == "/team-2"
        await teams.emit("news")
        await server.settle()
        assert one.events("news") == [()] and two.events("news") == [()]


async def test_disconnect_handlers_get_the_reason() -> None:
    sio = siox.Server()
    reasons: list[str] = []

    @sio.on("disconnect")
    def disconnect(socket: siox.Socket, reason: str) -> None:
        reasons.append(reason)

    async with TestServer(sio) as server:
        a = await server.connect()
        b = await server.connect()
        await a.disconnect()
        b.close_transport()
        await server.settle()
    assert reasons == ["client namespace disconnect", "transport close"]
