"""Acknowledgements both ways, over the in-memory pair of siox.testing."""

from __future__ import annotations

import asyncio
from typing import Any

import siox
from siox.testing import TestServer


def echo_server() -> siox.Server:
    sio = siox.Server()

    @sio.on("echo")
    async def echo(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @sio.on("plain")
    def plain(socket: siox.Socket, value: int) -> int:
        return value + 1

    @sio.on("nothing")
    def nothing(socket: siox.Socket) -> None:
        return None

    @sio.on("ask-back")
    async def ask_back(socket: siox.Socket, question: str) -> Any:
        return await socket.emit_with_ack("question", question, timeout=1.0)

    return sio


async def test_handler_return_values_become_the_ack() -> None:
    async with TestServer(echo_server()) as server:
        client = await server.connect()
        assert await client.emit_with_ack("echo", 1, "a") == (1, "a")
        assert await client.emit_with_ack("echo", {"x": [1]}) == {"x": [1]}
        assert await client.emit_with_ack("plain", 41) == 42
        assert await client.emit_with_ack("nothing") is None


async def test_binary_arguments_travel_both_ways() -> None:
    async with TestServer(echo_server()) as server:
        client = await server.connect()
        assert await client.emit_with_ack("echo", b"\x00\xff", {"b": b"x"}) == (
            b"\x00\xff",
            {"b": b"x"},
        )


async def test_the_server_waits_for_the_clients_ack() -> None:
    async with TestServer(echo_server()) as server:
        client = await server.connect()

        @client.on("question")
        def question(text: str) -> str:
            return text.upper()

        assert await client.emit_with_ack("ask-back", "why") == "WHY"


async def test_an_ack_the_client_never_sends_times_out_on_the_servers_clock() -> None:
    sio = siox.Server()
    outcome: list[str] = []

    @sio.on("connect")
    async def connect(socket: siox.Socket) -> None:
        try:
            await socket.emit_with_ack("never-answered", timeout=0.05)
        except siox.AckTimeout:
            outcome.append("timeout")

    async with TestServer(sio) as server:
        joining = asyncio.create_task(server.connect())
        await server.settle()
        assert outcome == []
        server.advance(0.05)
        await joining
    assert outcome == ["timeout"]


async def test_a_handler_that_raises_sends_no_ack_and_is_reported() -> None:
    sio = siox.Server()
    errors: list[BaseException] = []
    sio.on_error(errors.append)

    @sio.on("boom")
    def boom(socket: siox.Socket) -> None:
        raise ValueError("boom")

    async with TestServer(sio) as server:
        client = await server.connect()
        await client.emit("boom")
        await server.settle()
        assert client.connected and client.received == []
    assert [type(e) for e in errors] == [ValueError]
