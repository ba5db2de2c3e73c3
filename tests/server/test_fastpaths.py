"""The per-message fast paths, seen from the driver: the behaviours that drifted (issue 8).

Each test drives a bare `EngineServer` in memory: a WebSocket handshake through
`check_websocket`/`open_websocket`, an in-memory channel that records what the engine writes,
and the event loop's clock replaced by a manual one, so that "the loop is late" (a message is
read after a deadline passed and before its timer ran) is a plain assignment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import siox
import siox.fastpaths
from siox.server.http_types import HttpRequest


class Channel:
    """An accepted WebSocket in memory: what the engine sends, and how it closed it."""

    supports_framed = True

    def __init__(self) -> None:
        self.sent: list[str | bytes] = []
        self.close_code: int | None = None

    def send(self, data: str | bytes, compress: bool = True) -> None:
        self.sent.append(data)

    def send_framed(self, data: bytes) -> bool:
        self.sent.append(data)
        return True

    def close(self, code: int = 1000) -> None:
        self.close_code = code


class Clock:
    """The running loop's ``time()``, set by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@contextmanager
def manual_clock() -> Iterator[Clock]:
    loop = asyncio.get_running_loop()
    clock = Clock(loop.time())
    loop.time = clock  # type: ignore[method-assign]
    try:
        yield clock
    finally:
        del loop.time


class App:
    """A bare-engine application that records what it is told (and can echo)."""

    def __init__(self, engine: siox.EngineServer, *, echo: bool = False) -> None:
        self.messages: list[str | bytes] = []
        self.closed: list[str] = []
        engine.on("message", self.message)
        engine.on("disconnect", lambda conn, reason: self.closed.append(reason))
        self.echo = echo

    def message(self, conn: Any, data: str | bytes) -> None:
        self.messages.append(data)
        if self.echo:
            conn.write([data])


async def open_websocket(engine: siox.EngineServer, query: str) -> tuple[Any, Channel]:
    request = HttpRequest("GET", engine.path, query, {"host": "localhost"}, "127.0.0.1")
    plan = await engine.check_websocket(request)
    assert not isinstance(plan, siox.server.http_types.HttpResponse)
    channel = Channel()
    handle = engine.open_websocket(plan, channel)  # type: ignore[arg-type, unused-ignore]
    [opened] = channel.sent
    assert isinstance(opened, str) and opened.startswith("0{")
    channel.sent.clear()
    return handle, channel


V3 = "EIO=3&transport=websocket"
V4 = "EIO=4&transport=websocket"


async def test_ws_bypass_fires_due_deadline_first_v3() -> None:
    # A v3 server expects the client's PING within interval + timeout; a message read after
    # that deadline (the loop was late to run the timer) must find the session timed out.
    engine = siox.EngineServer(allow_eio3=True, ping_interval=1.0, ping_timeout=1.0)
    app = App(engine)
    with manual_clock() as clock:
        handle, channel = await open_websocket(engine, V3)
        handle.receive("4in time")
        clock.now += 2.5
        handle.receive("4late")
    assert app.messages == ["in time"]
    assert app.closed == ["ping timeout"]
    assert channel.close_code == 1000


async def test_ws_bypass_fires_due_deadline_first_v4() -> None:
    # A v4 server owes a PING every interval; a message read after it fell due (timer not yet
    # run) first sends the PING, then is delivered: the echo follows the PING on the wire.
    engine = siox.EngineServer(ping_interval=1.0, ping_timeout=5.0)
    app = App(engine, echo=True)
    with manual_clock() as clock:
        handle, channel = await open_websocket(engine, V4)
        handle.receive("4one")
        clock.now += 1.5
        handle.receive("4two")
    assert app.messages == ["one", "two"]
    assert channel.sent == ["4one", "2", "4two"]
    assert app.closed == []


@pytest.mark.parametrize("query", [V4, V3])
async def test_ws_fast_path_counts_utf8_bytes_against_max_payload(query: str) -> None:
    # 40 three-byte characters: len() is 41 with the "4", within the limit; the bytes are not.
    engine = siox.EngineServer(allow_eio3=True, max_http_buffer_size=100)
    app = App(engine)
    handle, channel = await open_websocket(engine, query)
    handle.receive("4" + "é" * 10)  # 21 bytes: delivered
    handle.receive("4" + "€" * 40)
    assert app.messages == ["é" * 10]
    assert channel.close_code == 1009
    assert app.closed == ["transport error"]


@pytest.mark.parametrize(
    ("query", "frame"), [(V4, "bAQID"), (V3, "b4AQID"), (V4 + "&b64=1", "bAQID")]
)
async def test_ws_base64_frame_on_a_steady_websocket_is_binary(query: str, frame: str) -> None:
    engine = siox.EngineServer(allow_eio3=True)
    app = App(engine)
    handle, _ = await open_websocket(engine, query)
    handle.receive("4text")
    handle.receive(frame)
    assert app.messages == ["text", b"\x01\x02\x03"]


@pytest.mark.parametrize("query", [V4, V3, V3 + "&b64=1"])
async def test_direct_writes_and_queued_writes_frame_messages_alike(query: str) -> None:
    # Written directly on a steady WebSocket, or queued behind a paused one: the same frames.
    engine = siox.EngineServer(allow_eio3=True)
    handle, channel = await open_websocket(engine, query)
    socket = handle.socket
    socket.write(["text", b"\x01\x02"])
    direct = list(channel.sent)
    channel.sent.clear()
    handle.pause_writing()
    socket.write(["text", b"\x01\x02"])
    assert channel.sent == []
    handle.resume_writing()
    assert channel.sent == direct
    binary = {V4: b"\x01\x02", V3: b"\x04\x01\x02", V3 + "&b64=1": "b4AQI="}[query]
    assert direct == ["4text", binary]


async def test_broadcast_frames_are_the_engine_framing_in_websocket_frames(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from siox.http.frames import frame_binary, frame_text
    from siox.server.outgoing import Outgoing

    monkeypatch.setattr(siox.fastpaths, "ENABLED", True)  # the shared frames are a fast path
    engine = siox.EngineServer(allow_eio3=True)
    handle4, channel4 = await open_websocket(engine, V4)
    handle3, channel3 = await open_websocket(engine, V3 + "&b64=1")
    outgoing = Outgoing(["hi", b"\x01"])
    handle4.socket.write_outgoing(outgoing)
    handle3.socket.write_outgoing(outgoing)
    assert channel4.sent == [frame_text(b"4hi") + frame_binary(b"\x01")]
    assert channel3.sent == [frame_text(b"4hi") + frame_text(b"b4AQ==")]


async def test_switch_off_writes_through_the_session_outputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(siox.fastpaths, "ENABLED", False)
    engine = siox.EngineServer()
    handle, channel = await open_websocket(engine, V4)
    core = handle.socket.core
    assert not core.writable_directly
    assert core.send_direct("x") is None  # queued, and already in the outputs
    handle.socket.write(["y"])  # the pump performs both
    handle.socket.write_outgoing(siox.server.outgoing.Outgoing(["z"]))
    assert channel.sent == ["4x", "4y", "4z"]  # "4z" sent alone, not as shared frame bytes
    monkeypatch.setattr(siox.fastpaths, "ENABLED", True)
    assert core.writable_directly
    assert core.send_direct("x") == "4x"  # the frame, for the driver to write
