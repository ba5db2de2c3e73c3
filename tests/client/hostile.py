"""A scripted, misbehaving Engine.IO/Socket.IO server for the hostile-input tests (K01-K08).

`FakeServer` speaks just enough of the protocol (built on siox's sans-I/O HTTP and WebSocket
server pieces) to get a client connected, then does what the test asks: send given Socket.IO
messages or raw WebSocket bytes, never answer, redirect, or stay silent past the heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field

from siox.engineio import (
    EnginePacket,
    EnginePacketType,
    decode_packet,
    decode_payload,
    encode_payload,
)
from siox.http.handshake import accept_upgrade, is_websocket_upgrade
from siox.http.http11 import Body, EndOfMessage, Request, RequestParser
from siox.http.messages import write_response
from siox.http.websocket import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    Role,
    TextMessage,
    WebSocketConnection,
)

TEXT = "text/plain; charset=UTF-8"


@dataclass
class Script:
    """What the fake server does.

    Attributes:
        mode: "engine" (a working Engine.IO server), "blackhole" (accept TCP, never answer)
            or "redirect" (answer every request with 302 to ``location``).
        location: the redirect target.
        eio: 4, or 3 (then the main namespace's CONNECT is sent unasked, as socket.io 2 does).
        ping_interval: milliseconds; the server never pings (so ping timeouts can be tested).
        ping_timeout: milliseconds.
        upgrades: offered upgrades.
        after_connect: Socket.IO messages sent once the client joined "/".
        raw_after_connect: raw bytes written on the WebSocket once the client joined "/".
    """

    mode: str = "engine"
    location: str = ""
    eio: int = 4
    ping_interval: int = 25_000
    ping_timeout: int = 20_000
    upgrades: list[str] = field(default_factory=list)
    after_connect: list[str] = field(default_factory=list)
    raw_after_connect: bytes = b""


class FakeServer:
    """One misbehaving server on 127.0.0.1 (``port`` once started)."""

    def __init__(self, script: Script, port: int = 0) -> None:
        self.script = script
        self.port = port
        self.requests: list[Request] = []
        self.received: list[str | bytes] = []  # Engine.IO messages from the client
        self.ws_close_codes: list[int] = []
        self._server: asyncio.Server | None = None
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeServer:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None

    def _open_packet(self) -> str:
        document = {
            "sid": "fake-sid",
            "upgrades": self.script.upgrades,
            "pingInterval": self.script.ping_interval,
            "pingTimeout": self.script.ping_timeout,
            "maxPayload": 1_000_000,
        }
        return json.dumps(document)

    def _on_message(self, data: str | bytes) -> list[str]:
        """A Socket.IO message from the client; the messages to answer with."""
        self.received.append(data)
        if data == "0" or (isinstance(data, str) and data.startswith("0{")):
            return ['0{"sid":"fake-socket"}', *self.script.after_connect]
        return []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        parser = RequestParser(max_body_size=10_000_000)
        try:
            if self.script.mode == "blackhole":
                while await reader.read(65536):
                    pass
                return
            head: Request | None = None
            body: list[bytes] = []
            while data := await reader.read(65536):
                for event in parser.receive_data(data):
                    if isinstance(event, Request):
                        head, body = event, []
                        self.requests.append(event)
                        if event.upgrade and is_websocket_upgrade(event.headers):
                            await self._websocket(event, reader, writer)
                            return
                    elif isinstance(event, Body):
                        body.append(event.data)
                    elif isinstance(event, EndOfMessage) and head is not None:
                        await self._polling(head, b"".join(body), writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _polling(self, request: Request, body: bytes, writer: asyncio.StreamWriter) -> None:
        eio = self.script.eio
        if self.script.mode == "redirect":
            writer.write(write_response(302, [("Location", self.script.location)]))
            return
        if "sid=" not in request.query:
            payload = encode_payload(
                [EnginePacket(EnginePacketType.OPEN, self._open_packet())], eio=eio
            )
            if eio == 3:  # socket.io 2: the main namespace is joined unasked
                self._queue.put_nowait("0")
                for message in self.script.after_connect:
                    self._queue.put_nowait(message)
            writer.write(write_response(200, [("Content-Type", TEXT)], str(payload).encode()))
            return
        if request.method == "POST":
            for packet in decode_payload(body.decode(), eio=eio):
                if packet.type is EnginePacketType.MESSAGE:
                    for answer in self._on_message(packet.data):
                        self._queue.put_nowait(answer)
            writer.write(write_response(200, [("Content-Type", "text/html")], b"ok"))
            return
        packets = [
            EnginePacket(EnginePacketType.MESSAGE, await self._queue.get())
        ]  # one per response
        writer.write(
            write_response(
                200, [("Content-Type", TEXT)], str(encode_payload(packets, eio=eio)).encode()
            )
        )

    async def _websocket(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self.script.mode == "redirect":
            writer.write(write_response(302, [("Location", self.script.location)]))
            await writer.drain()
            return
        agreed = accept_upgrade(request.method, request.headers)
        writer.write(agreed.response)
        ws = WebSocketConnection(Role.SERVER, max_message_size=None)
        writer.write(ws.send_text("0" + self._open_packet()))
        if self.script.eio == 3:
            writer.write(ws.send_text("40"))
            await self._after_connect(ws, writer)
        while data := await reader.read(65536):
            for event in ws.receive_data(data):
                if isinstance(event, (TextMessage, BinaryMessage)):
                    packet = decode_packet(event.data, eio=self.script.eio)
                    if packet.type is EnginePacketType.MESSAGE:
                        answers = self._on_message(packet.data)
                        for answer in answers[:1]:
                            writer.write(ws.send_text("4" + answer))
                        if answers:
                            await self._after_connect(ws, writer)
                elif isinstance(event, (CloseReceived, ConnectionFailed)):
                    self.ws_close_codes.append(event.code)
            out = ws.data_to_send()
            if out:
                writer.write(out)
            await writer.drain()

    async def _after_connect(self, ws: WebSocketConnection, writer: asyncio.StreamWriter) -> None:
        for message in self.script.after_connect:
            writer.write(ws.send_text("4" + message))
        if self.script.raw_after_connect:
            writer.write(self.script.raw_after_connect)
        await writer.drain()


def ws_frame_header(opcode: int, length: int, *, fin: bool = True) -> bytes:
    """An unmasked server frame header announcing ``length`` payload bytes."""
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        return bytes([first, length])
    if length < 65536:
        return bytes([first, 126]) + length.to_bytes(2, "big")
    return bytes([first, 127]) + length.to_bytes(8, "big")


def many_fragments(count: int) -> bytes:
    """One text message split into ``count`` one-byte frames ("4" then "x"s)."""
    frames = [ws_frame_header(0x1, 1, fin=False) + b"4"]
    frames += [ws_frame_header(0x0, 1, fin=False) + b"x" for _ in range(count - 2)]
    frames.append(ws_frame_header(0x0, 1, fin=True) + b"x")
    return b"".join(frames)
