"""ClientEngineSession against the real engine.io 6.6 server (Node), v4 and v3, with upgrades.

A minimal asyncio driver (raw HTTP/1.1 with ``Connection: close`` for polling, siox's
sans-I/O WebSocket for the WebSocket) runs the session exactly as the module docstring of
`siox.engineio.client_session` says a driver must, against ``tests/node/reference_server.js
--app engineio`` (an echo server with pingInterval 300 ms / pingTimeout 200 ms).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from siox.engineio.client_session import ClientEngineSession
from siox.engineio.events import Closed, CloseReason, Event, MessageReceived, Opened, Upgraded
from siox.engineio.handshake import Transport
from siox.engineio.outputs import (
    OpenWebSocket,
    PollRequest,
    PostRequest,
    Query,
    WebSocketClose,
    WebSocketSend,
)
from siox.http.handshake import ClientHandshake
from siox.http.websocket import WebSocketConnection
from siox.http.websocket_events import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    Role,
    TextMessage,
)

pytestmark = pytest.mark.interop

NODE_DIR = Path(__file__).resolve().parent.parent / "node"


@pytest.fixture(scope="module")
def reference_server() -> Iterator[tuple[str, int]]:
    """The Node engine.io echo server (v3 allowed), on a free port."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    process = subprocess.Popen(
        [node, "reference_server.js", "--port", "0", "--app", "engineio", "--eio3"],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        listening = json.loads(process.stdout.readline())["listening"]
        yield listening["host"], listening["port"]
    finally:
        process.terminate()
        process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


class Driver:
    """Drives one ClientEngineSession over real sockets."""

    def __init__(self, host: str, port: int, session: ClientEngineSession) -> None:
        self.host, self.port = host, port
        self.session = session
        self.loop = asyncio.get_running_loop()
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.tasks: set[asyncio.Task[None]] = set()
        self.ws: WebSocketConnection | None = None
        self.ws_writer: asyncio.StreamWriter | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.pump()

    def now(self) -> float:
        return self.loop.time()

    def spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def pump(self) -> None:
        for item in self.session.data_to_send():
            if isinstance(item, PollRequest):
                self.spawn(self.get(item.query))
            elif isinstance(item, PostRequest):
                self.spawn(self.post(item))
            elif isinstance(item, OpenWebSocket):
                self.spawn(self.open_websocket(item.query))
            elif isinstance(item, WebSocketSend):
                assert self.ws is not None
                assert self.ws_writer is not None
                frame = item.frame
                data = (
                    self.ws.send_text(frame)
                    if isinstance(frame, str)
                    else self.ws.send_binary(frame)
                )
                self.ws_writer.write(data)
            elif isinstance(item, WebSocketClose):
                if self.ws is not None and self.ws_writer is not None:
                    self.ws_writer.write(self.ws.send_close(item.code))
                    self.ws_writer.close()
                self.ws = self.ws_writer = None
        for event in self.session.events_received():
            self.events.put_nowait(event)
        if self.timer is not None:
            self.timer.cancel()
        deadline = self.session.next_deadline()
        self.timer = None if deadline is None else self.loop.call_at(deadline, self.on_timer)

    def on_timer(self) -> None:
        self.timer = None
        self.session.handle_timer(self.now())
        self.pump()

    def target(self, query: Query) -> str:
        return "/engine.io/?" + urlencode(query)

    async def http(
        self, method: str, query: Query, body: bytes = b"", content_type: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        head = [f"{method} {self.target(query)} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head.append("Connection: close")
        if method == "POST":
            head.append(f"Content-Length: {len(body)}")
            if content_type:
                head.append(f"Content-Type: {content_type}")
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            raw = await reader.read(-1)
        finally:
            writer.close()
        header_block, _, payload = raw.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers, payload

    async def get(self, query: Query) -> None:
        status, headers, body = await self.http("GET", query)
        if status == 200:
            self.session.receive_polling_response(body, headers.get("content-type"), self.now())
        else:
            self.session.transport_closed(Transport.POLLING, self.now())
        self.pump()

    async def post(self, item: PostRequest) -> None:
        body = item.body.encode() if isinstance(item.body, str) else item.body
        status, _, _ = await self.http("POST", item.query, body, item.content_type)
        if not self.session.closed:
            if status == 200:
                self.session.polling_post_done(self.now())
            else:
                self.session.transport_closed(Transport.POLLING, self.now())
        self.pump()

    async def open_websocket(self, query: Query) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            await self.websocket(query, reader, writer)
        finally:
            writer.close()

    async def websocket(
        self, query: Query, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        handshake = ClientHandshake(f"{self.host}:{self.port}", self.target(query))
        writer.write(handshake.request)
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = [
            (name.strip().lower().encode(), value.strip().encode())
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        ]
        handshake.validate_response(status, headers)
        self.ws, self.ws_writer = WebSocketConnection(Role.CLIENT), writer
        conn = self.ws
        self.session.attach_websocket(self.now())
        self.pump()
        while True:
            data = await reader.read(65536)
            events = conn.receive_data(data) if data else conn.receive_eof()
            for event in events:
                if isinstance(event, TextMessage | BinaryMessage):
                    self.session.receive_ws_frame(event.data, self.now())
                elif isinstance(event, CloseReceived | ConnectionFailed):
                    if self.ws is conn:
                        self.session.transport_closed(Transport.WEBSOCKET, self.now())
                        self.ws = self.ws_writer = None
                    self.pump()
                    return
            if self.ws is conn and self.ws_writer is not None:
                self.ws_writer.write(conn.data_to_send())
            self.pump()
            if not data:
                return

    async def next_event(self, kind: type[Any], timeout: float = 5.0) -> Any:
        while True:
            event = await asyncio.wait_for(self.events.get(), timeout)
            if isinstance(event, kind):
                return event
            assert not isinstance(event, Closed), event

    async def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@pytest.mark.parametrize("eio", [4, 3])
@pytest.mark.parametrize(
    ("transport", "upgrade"),
    [(Transport.POLLING, False), (Transport.POLLING, True), (Transport.WEBSOCKET, False)],
)
async def test_client_session_against_the_reference_server(
    reference_server: tuple[str, int], eio: int, transport: Transport, upgrade: bool
) -> None:
    host, port = reference_server
    session = ClientEngineSession(
        now=asyncio.get_running_loop().time(), transport=transport, eio=eio, upgrade=upgrade
    )
    driver = Driver(host, port, session)
    try:
        opened = await driver.next_event(Opened)
        assert opened.ping_interval == 0.3
        assert opened.ping_timeout == 0.2
        if upgrade:
            assert await driver.next_event(Upgraded) == Upgraded(Transport.WEBSOCKET)
        sent: list[str | bytes] = [
            "hello",
            b"\x01\x02\x03",
            "é😀 \x1e" if session.transport is Transport.WEBSOCKET or eio == 3 else "é😀",
        ]
        for data in sent:
            assert session.send(data)
        driver.pump()
        echoed = [(await driver.next_event(MessageReceived)).data for _ in sent]
        assert echoed == sent
        await asyncio.sleep(1.2)  # several heartbeats: nothing may time out
        assert not session.closed
        assert session.send("still here")
        driver.pump()
        assert (await driver.next_event(MessageReceived)).data == "still here"
        session.close(now=driver.now())
        driver.pump()
        assert await driver.next_event(Closed) == Closed(CloseReason.FORCED_CLOSE)
    finally:
        await driver.stop()
