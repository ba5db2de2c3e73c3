"""examples/background_task: a task emits numbered ticks to a room; only subscribers get them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import siox


async def test_subscribers_get_ticks_in_order_and_others_none(
    run_example: Callable[..., AbstractContextManager[str]],
) -> None:
    with run_example("background_task/app.py", "--interval", "0.05") as url:
        async with siox.connect(url) as listener, siox.connect(url) as bystander:
            ticks: list[dict[str, Any]] = []
            three = asyncio.Event()

            @listener.on("tick")
            def tick(item: dict[str, Any]) -> None:
                ticks.append(item)
                if len(ticks) == 3:
                    three.set()

            @bystander.on("tick")
            def unexpected(item: dict[str, Any]) -> None:
                raise AssertionError(f"a bystander got {item}")

            assert await listener.emit_with_ack("subscribe", timeout=5) is True
            await asyncio.wait_for(three.wait(), 5)
            counts = [t["count"] for t in ticks[:3]]
            assert counts == list(range(counts[0], counts[0] + 3))
            status = await bystander.emit_with_ack("status", timeout=5)
            assert status["subscribers"] == 1 and status["count"] >= counts[-1]

            assert await listener.emit_with_ack("unsubscribe", timeout=5) is True
            seen = len(ticks)
            await asyncio.sleep(0.2)  # four intervals: nothing more may arrive
            assert len(ticks) == seen
