"""A plain WebSocket handshake and namespace CONNECT make no asyncio task (issue 13): the
upgrade's checks and the connect run at once; a task appears only when application code
really waits (an async connect handler that suspends)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any

import siox
from rawpeer import running, ws_connect_sio


def _count_siox_tasks(loop: asyncio.AbstractEventLoop) -> list[str]:
    """Install a task factory that notes the tasks whose coroutine is siox's."""
    made: list[str] = []

    def factory(
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any] | Generator[Any, None, Any],
        **kwargs: Any,
    ) -> asyncio.Task[Any]:
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        if code is not None and "siox" in code.co_filename:
            made.append(code.co_qualname)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    return made


async def test_a_plain_websocket_connect_makes_no_task() -> None:
    sio = siox.Server()
    connected: list[str] = []
    sio.on("connect", lambda socket: connected.append(socket.id))
    async with running(sio) as port:
        loop = asyncio.get_running_loop()
        made = _count_siox_tasks(loop)
        try:
            peer, sid = await ws_connect_sio(port)
        finally:
            loop.set_task_factory(None)
        assert connected == [sid]
        assert made == []
        await peer.close()


async def test_a_connect_handler_that_waits_gets_a_task() -> None:
    sio = siox.Server()

    @sio.on("connect")
    async def connect(socket: siox.Socket) -> None:
        async with asyncio.timeout(5):  # needs a current task: it runs in one
            await asyncio.sleep(0)

    async with running(sio) as port:
        loop = asyncio.get_running_loop()
        made = _count_siox_tasks(loop)
        try:
            peer, _ = await ws_connect_sio(port)
        finally:
            loop.set_task_factory(None)
        assert made  # the connect went on in a task once the handler waited
        await peer.close()
