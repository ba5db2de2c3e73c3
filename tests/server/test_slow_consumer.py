"""Slow consumers (issue 14): their own disconnect reason, conflation, volatile drops, drop logs.

A polling client that stops polling is the slowest consumer there is: everything sent to it
waits in its session's outgoing buffer until its next GET.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

import siox
from rawpeer import eio_url, http, open_polling, running


async def _polling_client(port: int) -> str:
    sid, _ = await open_polling(port)
    url = eio_url(f"transport=polling&sid={sid}")
    assert (await http(port, "POST", url, body=b"40")).text == "ok"
    assert (await http(port, "GET", url)).text.startswith("40")
    return url


def _events(body: str) -> list[list[object]]:
    return [json.loads(p[2:]) for p in body.split("\x1e") if p.startswith("42")]


async def test_slow_consumer_is_disconnected_with_its_own_reason() -> None:
    sio = siox.Server(max_buffer_size=50_000)
    reasons: list[str] = []

    @sio.on("disconnect")
    def gone(socket: siox.Socket, reason: str) -> None:
        reasons.append(reason)

    async with running(sio) as port:
        await _polling_client(port)
        for _ in range(20):
            await sio.emit("data", "x" * 5_000)
        await asyncio.sleep(0.1)
    assert reasons == ["slow consumer"]


async def test_conflated_events_keep_only_the_latest_while_the_client_is_slow(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sio = siox.Server()

    @sio.on("connect")
    def connected(socket: siox.Socket) -> None:
        socket.conflate("position")

    caplog.set_level(logging.WARNING, logger="siox")
    async with running(sio) as port:
        url = await _polling_client(port)
        for i in range(100):  # the client does not poll meanwhile
            await sio.emit("position", i)
            if i % 25 == 0:
                await sio.emit("chat", i)
        body = (await http(port, "GET", url)).text
        # Latest position wins, in the first one's place; every chat is kept, in order.
        assert _events(body) == [
            ["position", 99],
            ["chat", 0],
            ["chat", 25],
            ["chat", 50],
            ["chat", 75],
        ]
        # Once the backlog is gone, each position goes out again.
        pending = asyncio.create_task(http(port, "GET", url))
        await asyncio.sleep(0.05)
        await sio.emit("position", 100)
        assert _events((await pending).text) == [["position", 100]]
    drops = [r for r in caplog.records if "slow consumer drops" in r.getMessage()]
    assert len(drops) == 1, [r.getMessage() for r in drops]  # once per interval, not 99 times


async def test_conflation_never_replaces_an_event_that_waits_for_an_ack() -> None:
    sio = siox.Server()
    socket_ids: list[siox.Socket] = []

    @sio.on("connect")
    def connected(socket: siox.Socket) -> None:
        socket.conflate("position")
        socket_ids.append(socket)

    async with running(sio) as port:
        url = await _polling_client(port)
        socket = socket_ids[0]
        first = asyncio.create_task(socket.emit_with_ack("position", 1, timeout=5))
        second = asyncio.create_task(socket.emit_with_ack("position", 2, timeout=5))
        await asyncio.sleep(0.05)
        body = (await http(port, "GET", url)).text
        assert [p[:3] for p in body.split("\x1e")] == ["420", "421"]
        for task in (first, second):
            task.cancel()


async def test_volatile_events_are_dropped_first_and_counted_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sio = siox.Server()
    caplog.set_level(logging.WARNING, logger="siox")
    async with running(sio) as port:
        url = await _polling_client(port)
        await sio.emit("kept", 1)
        for i in range(50):
            await sio.volatile.emit("tick", i)
        body = (await http(port, "GET", url)).text
        assert _events(body) == [["kept", 1]]
    drops = [r for r in caplog.records if "slow consumer drops" in r.getMessage()]
    assert len(drops) == 1
