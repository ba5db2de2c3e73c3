"""`siox.server.eager.start`: a coroutine runs at once, and gets a task only if it suspends; it
goes on in that task from where it stopped (values, exceptions, cancellation passed through);
``TASK_POINT`` moves it into its task before code that needs one."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from siox.server.eager import TASK_POINT, start

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="outside")


async def test_a_coroutine_that_never_waits_finishes_at_once_without_a_task() -> None:
    steps: list[str] = []

    async def plain() -> None:
        steps.append("ran")

    assert start(asyncio.get_running_loop(), plain()) is None
    assert steps == ["ran"]


async def test_a_coroutine_that_waits_goes_on_in_a_task_with_what_it_awaited() -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[int] = loop.create_future()
    steps: list[object] = []

    async def waits() -> int:
        steps.append("first step")
        value = await future
        steps.append(value)
        await asyncio.sleep(0)
        return value * 2

    task = start(loop, waits())
    assert task is not None and steps == ["first step"]
    future.set_result(21)
    assert await task == 42
    assert steps == ["first step", 21]


async def test_an_exception_after_the_first_step_ends_the_task() -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    async def fails() -> None:
        await future
        raise ValueError("late")

    task = start(loop, fails())
    assert task is not None
    future.set_exception(KeyError("thrown in"))
    with pytest.raises(KeyError):
        await task


async def test_a_cancelled_task_cancels_the_coroutine_where_it_waits() -> None:
    loop = asyncio.get_running_loop()
    seen: list[str] = []

    async def sleeper() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    task = start(loop, sleeper())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled"]


async def test_task_point_moves_the_rest_into_a_task() -> None:
    seen: list[bool] = []

    async def needs_a_task() -> None:
        await TASK_POINT
        seen.append(asyncio.current_task() is not None)
        async with asyncio.timeout(1):  # needs a current task
            await asyncio.sleep(0)

    def callback(done: asyncio.Future[asyncio.Task[None] | None]) -> None:
        # Outside any task, as a protocol callback is.
        done.set_result(start(asyncio.get_running_loop(), needs_a_task()))

    loop = asyncio.get_running_loop()
    done: asyncio.Future[asyncio.Task[None] | None] = loop.create_future()
    loop.call_soon(callback, done)
    task = await done
    assert task is not None
    await task
    assert seen == [True]


async def test_the_coroutine_runs_in_a_context_of_its_own() -> None:
    async def sets() -> None:
        var.set("inside")
        await asyncio.sleep(0)
        assert var.get() == "inside"

    task = start(asyncio.get_running_loop(), sets())
    assert var.get() == "outside"
    assert task is not None
    await task
    assert var.get() == "outside"
