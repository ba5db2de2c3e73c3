"""Handler dispatch: sync and async handlers share one guard, and the error hook knows where."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import siox
from rawpeer import collect_errors, running, ws_connect_sio


@pytest.mark.parametrize("kind", ["plain", "coroutine"])
async def test_a_handler_whose_ack_cannot_be_encoded_is_reported_and_the_connection_lives(
    kind: str,
) -> None:
    sio = siox.Server()
    errors = collect_errors(sio)

    if kind == "plain":

        @sio.on("bad")
        def bad(socket: siox.Socket) -> Any:
            return {1, 2}  # a set: no JSON for it

    else:

        @sio.on("bad")
        async def bad_async(socket: siox.Socket) -> Any:
            return {1, 2}

    @sio.on("echo")
    def echo(socket: siox.Socket, value: Any) -> Any:
        return value

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('421["bad"]')
        await peer.send('422["echo","still alive"]')
        assert await peer.recv() == '432["still alive"]'
    assert len(errors) == 1 and isinstance(errors[0], TypeError)


async def test_the_error_hook_is_told_the_event_namespace_and_socket() -> None:
    sio = siox.Server()
    seen: list[tuple[BaseException, siox.ErrorContext]] = []
    sio.on_error(lambda exc, context: seen.append((exc, context)))
    chat = sio.of("/chat")

    @chat.on("boom")
    async def boom(socket: siox.Socket) -> None:
        raise ValueError("boom")

    @chat.on("connect")
    def connect(socket: siox.Socket) -> None:
        pass

    @chat.on("disconnect")
    def disconnect(socket: siox.Socket, reason: str) -> None:
        raise RuntimeError(reason)

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port, "40/chat,")
        await peer.send('42/chat,["boom"]')
        await asyncio.sleep(0.1)
        await peer.send("41/chat,")
        await asyncio.sleep(0.1)
    sids = {context.socket_id for _, context in seen}
    assert len(sids) == 1 and None not in sids
    assert [(type(exc), context.event, context.namespace) for exc, context in seen] == [
        (ValueError, "boom", "/chat"),
        (RuntimeError, "disconnect", "/chat"),
    ]
    notes = getattr(seen[0][0], "__notes__", [])
    assert any("'boom'" in note and "'/chat'" in note for note in notes)


async def test_a_one_argument_error_hook_still_gets_the_exception() -> None:
    sio = siox.Server()
    errors = collect_errors(sio)

    @sio.on("boom")
    def boom(socket: siox.Socket) -> None:
        raise KeyError("k")

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send('42["boom"]')
        await asyncio.sleep(0.1)
    assert [type(exc) for exc in errors] == [KeyError]
