"""A deliberately low-level peer for server tests: raw HTTP requests and raw WebSocket frames.

It lets a test send what no well-behaved client would (bad packets, bad framing, overlapping
requests) and see exactly what the server answers. Built on siox's own client-role codecs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from siox.http.handshake import ClientHandshake
from siox.http.http11 import (
    Body,
    EndOfMessage,
    HttpError,
    Response,
    ResponseParser,
    SwitchedProtocols,
)
from siox.http.messages import write_request
from siox.http.websocket import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    TextMessage,
    WebSocketConnection,
)
from siox.http.websocket_events import Role

TIMEOUT = 5.0
#: Every connection opened by this module; `running` closes what a test left open.
_OPEN_WRITERS: list[asyncio.StreamWriter] = []


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes = b""

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


async def http(
    port: int,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
    raw: bytes | None = None,
    timeout: float = TIMEOUT,
) -> HttpResult:
    """One request on a fresh connection (``raw`` sends those bytes instead of a request)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    _OPEN_WRITERS.append(writer)
    try:
        if raw is None:
            all_headers = [("Host", f"127.0.0.1:{port}"), *(headers or [])]
            if body is not None and not any(k.lower() == "content-type" for k, _ in all_headers):
                all_headers.append(("Content-Type", "text/plain;charset=UTF-8"))
            raw = write_request(method, target, all_headers, body)
        writer.write(raw)
        return await asyncio.wait_for(_read_response(reader), timeout)
    finally:
        writer.close()


async def _read_response(reader: asyncio.StreamReader) -> HttpResult:
    parser = ResponseParser()
    result: HttpResult | None = None
    chunks: list[bytes] = []
    while True:
        data = await reader.read(65536)
        events = parser.receive_data(data) if data else parser.receive_eof()
        for event in events:
            if isinstance(event, Response):
                result = HttpResult(
                    event.status, {k.decode(): v.decode() for k, v in event.headers}
                )
            elif isinstance(event, Body):
                chunks.append(event.data)
            elif isinstance(event, (EndOfMessage, SwitchedProtocols)):
                assert result is not None
                result.body = b"".join(chunks)
                return result
            elif isinstance(event, HttpError):
                raise ConnectionError(event.message)
        if not data:
            raise ConnectionError("connection closed before a complete response")


def eio_url(query: str = "", path: str = "/socket.io/") -> str:
    return f"{path}?EIO=4&{query}" if query else f"{path}?EIO=4"


async def open_polling(port: int, path: str = "/socket.io/") -> tuple[str, dict[str, Any]]:
    """Polling handshake; returns (sid, open data)."""
    result = await http(port, "GET", eio_url("transport=polling", path))
    assert result.status == 200, result.body
    assert result.text.startswith("0")
    # A slow handshake may already carry a ping after the OPEN packet: read the first record.
    data = json.loads(result.text.split("\x1e")[0][1:])
    return data["sid"], data


@dataclass
class RawWebSocket:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    ws: WebSocketConnection
    inbox: list[str | bytes | CloseReceived | ConnectionFailed] = field(default_factory=list)
    close_code: int | None = None

    async def send(self, data: str | bytes) -> None:
        self.writer.write(
            self.ws.send_text(data) if isinstance(data, str) else self.ws.send_binary(data)
        )
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout: float = TIMEOUT) -> str | bytes:
        """The next message; raises ConnectionError when the server closed instead."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.inbox:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("no message")
            data = await asyncio.wait_for(self.reader.read(65536), remaining)
            events = self.ws.receive_data(data) if data else self.ws.receive_eof()
            out = self.ws.data_to_send()
            if out and not self.writer.is_closing():
                self.writer.write(out)
            for event in events:
                if isinstance(event, (TextMessage, BinaryMessage)):
                    self.inbox.append(event.data)
                elif isinstance(event, (CloseReceived, ConnectionFailed)):
                    self.close_code = event.code
                    self.inbox.append(event)
            if not data and not self.inbox:
                self.inbox.append(ConnectionFailed(1006, "eof"))
        item = self.inbox.pop(0)
        if isinstance(item, (CloseReceived, ConnectionFailed)):
            self.inbox.insert(0, item)
            raise ConnectionError(f"closed {item.code}")
        return item

    async def recv_text(self, timeout: float = TIMEOUT) -> str:
        """The next message, which must be a text one."""
        message = await self.recv(timeout)
        assert isinstance(message, str), message
        return message

    async def recv_until(self, predicate: Any, timeout: float = TIMEOUT) -> str | bytes:
        """Skip messages until one satisfies ``predicate`` (pings are answered)."""
        while True:
            message = await self.recv(timeout)
            if message == "2":
                await self.send("3")
                continue
            if predicate(message):
                return message

    async def closed(self, timeout: float = TIMEOUT) -> int | None:
        """Wait for the server to close; returns the close code."""
        try:
            while True:
                await self.recv(timeout)
        except ConnectionError:
            return self.close_code

    async def close(self) -> None:
        self.writer.close()


async def websocket(
    port: int, target: str, headers: list[tuple[str, str]] | None = None
) -> RawWebSocket | HttpResult:
    """Open a WebSocket; returns the refusal as an HttpResult when the server refuses."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    _OPEN_WRITERS.append(writer)
    handshake = ClientHandshake(f"127.0.0.1:{port}", target, extra_headers=headers or [])
    writer.write(handshake.request)
    parser = ResponseParser()
    response: Response | None = None
    rest = b""
    chunks: list[bytes] = []
    while True:
        data = await asyncio.wait_for(reader.read(65536), TIMEOUT)
        events = parser.receive_data(data) if data else parser.receive_eof()
        done = False
        for event in events:
            if isinstance(event, Response):
                response = event
            elif isinstance(event, SwitchedProtocols):
                rest = event.data
                done = True
            elif isinstance(event, Body):
                chunks.append(event.data)
            elif isinstance(event, EndOfMessage):
                assert response is not None
                if response.status == 101:
                    done = True
                    continue
                writer.close()
                return HttpResult(
                    response.status,
                    {k.decode(): v.decode() for k, v in response.headers},
                    b"".join(chunks),
                )
        if done or not data:
            break
    assert response is not None and response.status == 101, response
    handshake.validate_response(response.status, response.headers)
    peer = RawWebSocket(reader, writer, WebSocketConnection(Role.CLIENT))
    if rest:
        for ws_event in peer.ws.receive_data(rest):
            if isinstance(ws_event, (TextMessage, BinaryMessage)):
                peer.inbox.append(ws_event.data)
            elif isinstance(ws_event, (CloseReceived, ConnectionFailed)):
                peer.close_code = ws_event.code
                peer.inbox.append(ws_event)
    return peer


async def ws_connect_sio(port: int, nsp_packet: str = "40") -> tuple[RawWebSocket, str]:
    """WebSocket-only Engine.IO session joined to a namespace; returns (peer, socket id)."""
    peer = await websocket(port, eio_url("transport=websocket"))
    assert isinstance(peer, RawWebSocket), peer
    opened = await peer.recv()
    assert isinstance(opened, str) and opened.startswith("0")
    await peer.send(nsp_packet)
    reply = await peer.recv_until(lambda m: isinstance(m, str) and m.startswith("40"))
    assert isinstance(reply, str)
    sid = json.loads(reply[reply.index("{") :])["sid"]
    return peer, sid


@asynccontextmanager
async def running(app: Any, **options: Any) -> AsyncIterator[int]:
    """Serve ``app`` on 127.0.0.1 with a free port for the block; yields the port."""
    import siox

    try:
        async with siox.serve(app, host="127.0.0.1", port=0, shutdown_timeout=1.0, **options) as s:
            yield s.port
    finally:
        writers = list(_OPEN_WRITERS)
        _OPEN_WRITERS.clear()
        for writer in writers:
            writer.close()
        for writer in writers:
            try:
                await asyncio.wait_for(writer.wait_closed(), 1)
            except (OSError, TimeoutError):
                pass


def collect_errors(sio: Any) -> list[BaseException]:
    """Register an error hook on ``sio`` that collects the exceptions it reports."""
    errors: list[BaseException] = []
    sio.on_error(errors.append)
    return errors
