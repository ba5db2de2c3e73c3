"""examples/game_lobby: rooms as tables, a ready check with an ack timeout, acked moves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager, AsyncExitStack

import siox

READY_TIMEOUT = 0.5


async def player(stack: AsyncExitStack, url: str, *, ready: bool) -> siox.ClientSocket:
    socket = await stack.enter_async_context(siox.connect(url, transports=("websocket",)))
    if ready:

        @socket.on("ready_check")
        def answer() -> bool:
            return True

    return socket


async def test_a_silent_player_is_kicked_at_the_ready_timeout_and_the_game_starts_without_them(
    run_example: Callable[..., AbstractContextManager[str]],
) -> None:
    with run_example("game_lobby/app.py", "--ready-timeout", str(READY_TIMEOUT)) as url:
        async with AsyncExitStack() as stack:
            ada = await player(stack, url, ready=True)
            bob = await player(stack, url, ready=False)  # never answers the ready check
            cyd = await player(stack, url, ready=True)

            code = await ada.emit_with_ack("create", timeout=5)
            assert await ada.emit_with_ack("tables", timeout=5) == [{"code": code, "players": 0}]
            assert await ada.emit_with_ack("join", "nope", timeout=5) == {
                "ok": False,
                "error": "no such table",
            }
            assert await ada.emit_with_ack("join", code, timeout=5) == {"ok": True, "seat": 1}
            kicked = asyncio.ensure_future(bob.wait_for("kicked", timeout=5))
            assert await bob.emit_with_ack("join", code, timeout=5) == {"ok": True, "seat": 2}
            assert await cyd.emit_with_ack("join", code, timeout=5) == {
                "ok": False,
                "error": "table full",
            }
            started = asyncio.get_running_loop().time()
            assert await kicked == {"table": code, "reason": "not ready in time"}
            assert asyncio.get_running_loop().time() - started < READY_TIMEOUT + 2

            starts = [
                asyncio.ensure_future(s.wait_for("game_start", timeout=5)) for s in (ada, cyd)
            ]
            assert await cyd.emit_with_ack("join", code, timeout=5) == {"ok": True, "seat": 2}
            assert await asyncio.gather(*starts) == [{"table": code}, {"table": code}]

            moved = asyncio.ensure_future(cyd.wait_for("moved", timeout=5))
            assert await ada.emit_with_ack("move", "e4", timeout=5) == {"ok": True, "number": 1}
            assert await moved == {"square": "e4", "number": 1}
            assert await bob.emit_with_ack("move", "a1", timeout=5) == {
                "ok": False,
                "error": "no game",
            }

            left = asyncio.ensure_future(ada.wait_for("opponent_left", timeout=5))
            await cyd.disconnect()
            assert await left == {"table": code}
