"""siox.http's WebSocket codec against npm `ws` (tests/node/node_modules/ws), both directions.

A tiny asyncio server and client are built here from the sans-I/O pieces (RequestParser,
accept_upgrade, ClientHandshake, ResponseParser, WebSocketConnection); ws_peer.js is the peer.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from siox.errors import HandshakeError
from siox.http.deflate import DeflateOptions
from siox.http.handshake import ClientHandshake, accept_upgrade, rejection_response
from siox.http.http11 import (
    HttpError,
    Request,
    RequestParser,
    Response,
    ResponseParser,
    SwitchedProtocols,
)
from siox.http.websocket import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    Pong,
    Role,
    TextMessage,
    WebSocketConnection,
    WebSocketEvent,
)

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js"),
]

HERE = Path(__file__).parent
NODE_MODULES = HERE.parent / "node" / "node_modules"
PEER = HERE / "ws_peer.js"
TIMEOUT = 30.0

# (ws perMessageDeflate options or None, the siox DeflateOptions of the same shape)
DEFLATE_CASES = {
    "plain": (None, None),
    "deflate": ({"threshold": 0}, DeflateOptions(threshold=0)),
    "deflate-constrained": (
        {
            "threshold": 0,
            "serverNoContextTakeover": True,
            "clientNoContextTakeover": True,
            "serverMaxWindowBits": 10,
            "clientMaxWindowBits": 11,
        },
        DeflateOptions(
            threshold=0,
            server_no_context_takeover=True,
            client_no_context_takeover=True,
            server_max_window_bits=10,
            client_max_window_bits=11,
        ),
    ),
}


def node_env() -> dict[str, str]:
    return {**os.environ, "NODE_PATH": str(NODE_MODULES)}


async def serve_echo(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    deflate: DeflateOptions | None,
    log: list[WebSocketEvent],
) -> None:
    """One connection of the Python echo server (the mirror of ws_peer.js's echo rule)."""
    parser = RequestParser()
    request: Request | None = None
    leftover: bytes | None = None
    while leftover is None:
        chunk = await reader.read(65536)
        if not chunk:
            writer.close()
            return
        for event in parser.receive_data(chunk):
            if isinstance(event, Request):
                request = event
            elif isinstance(event, SwitchedProtocols):
                leftover = event.data
            elif isinstance(event, HttpError):
                writer.close()
                return
    assert request is not None
    try:
        upgrade = accept_upgrade(request.method, request.headers, deflate=deflate)
    except HandshakeError as exc:
        writer.write(rejection_response(exc))
        writer.close()
        return
    writer.write(upgrade.response)
    conn = WebSocketConnection(Role.SERVER, deflate=upgrade.deflate)
    data = leftover
    while True:
        for ws_event in conn.receive_data(data):
            log.append(ws_event)
            if isinstance(ws_event, TextMessage):
                text = ws_event.data
                size = len(text.encode()) // 3 + 1 if text.startswith("frag:") else None
                writer.write(conn.send_text(text, fragment_size=size))
            elif isinstance(ws_event, BinaryMessage):
                writer.write(conn.send_binary(ws_event.data))
        writer.write(conn.data_to_send())
        if log and isinstance(log[-1], CloseReceived | ConnectionFailed):
            await writer.drain()
            writer.close()
            return
        data = await reader.read(65536)
        if not data:
            log.extend(conn.receive_eof())
            writer.close()
            return


@pytest.mark.parametrize("case", DEFLATE_CASES)
async def test_ws_client_talks_to_siox_server(case: str) -> None:
    ws_options, options = DEFLATE_CASES[case]
    use_deflate = options is not None
    log: list[WebSocketEvent] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve_echo(reader, writer, options, log)

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(PEER),
            "client",
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
            json.dumps(ws_options) if ws_options else "0",
            stdout=asyncio.subprocess.PIPE,
            env=node_env(),
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["ok"], result["errors"]
    assert result["pong"] == "are you there"
    assert result["closeCode"] == 4000
    assert result["closeReason"] == "done ✓"  # the close reply echoes code and reason
    assert ("permessage-deflate" in (result["extensions"] or "")) is use_deflate
    if case == "deflate-constrained":
        assert "server_max_window_bits=10" in result["extensions"]
        assert "client_no_context_takeover" in result["extensions"]
    assert CloseReceived(4000, "done ✓") in log
    assert sum(isinstance(e, TextMessage | BinaryMessage) for e in log) == 6


async def read_events(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    conn: WebSocketConnection,
    count: int,
) -> list[WebSocketEvent]:
    events: list[WebSocketEvent] = []
    while len(events) < count:
        data = await asyncio.wait_for(reader.read(65536), TIMEOUT)
        events.extend(conn.receive_data(data) if data else conn.receive_eof())
        writer.write(conn.data_to_send())
        if not data:
            break
    return events


@pytest.mark.parametrize("case", DEFLATE_CASES)
async def test_siox_client_talks_to_ws_server(case: str) -> None:
    ws_options, options = DEFLATE_CASES[case]
    use_deflate = options is not None
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(PEER),
        "server",
        json.dumps(ws_options) if ws_options else "0",
        stdout=asyncio.subprocess.PIPE,
        env=node_env(),
    )
    assert proc.stdout is not None
    port = json.loads(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT))["port"]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        handshake = ClientHandshake(
            f"127.0.0.1:{port}",
            "/socket.io/?EIO=4&transport=websocket",
            deflate=options,
        )
        writer.write(handshake.request)
        parser = ResponseParser()
        response: Response | None = None
        leftover: bytes | None = None
        while leftover is None:
            chunk = await asyncio.wait_for(reader.read(65536), TIMEOUT)
            assert chunk, "server closed during the handshake"
            for event in parser.receive_data(chunk):
                if isinstance(event, Response):
                    response = event
                elif isinstance(event, SwitchedProtocols):
                    leftover = event.data
        assert response is not None
        agreed = handshake.validate_response(response.status, response.headers)
        assert (agreed.deflate is not None) is use_deflate
        if case == "deflate-constrained":
            assert agreed.deflate is not None
            assert agreed.deflate.server_no_context_takeover
            assert agreed.deflate.client_no_context_takeover
            assert agreed.deflate.server_max_window_bits == 10
            assert agreed.deflate.client_max_window_bits == 11
        conn = WebSocketConnection(Role.CLIENT, deflate=agreed.deflate)
        assert conn.receive_data(leftover) == []

        big_text = "y" * 400_000 + "ß" * 30_000
        big_binary = bytes(range(256)) * 1000
        fragmented = "ünïcödé " * 500
        frag_reply = "frag:" + "😀abc" * 800
        writer.write(conn.send_text("hello"))
        writer.write(conn.send_binary(b"\x00\x01\xff"))
        writer.write(conn.send_text(big_text))
        writer.write(conn.send_binary(big_binary, fragment_size=10_000))
        writer.write(conn.send_text(fragmented, fragment_size=7))  # splits code points
        writer.write(conn.send_text(frag_reply))
        writer.write(conn.send_ping(b"ping?"))
        events = await read_events(reader, writer, conn, 8)
        messages = [e for e in events if isinstance(e, TextMessage | BinaryMessage)]
        assert messages == [
            TextMessage("hello"),
            BinaryMessage(b"\x00\x01\xff"),
            TextMessage(big_text),
            BinaryMessage(big_binary),
            TextMessage(fragmented),
            TextMessage(frag_reply),
            TextMessage("pinged:ping?"),
        ]
        assert Pong(b"ping?") in events

        writer.write(conn.send_close(4001, "bye ✓"))
        closing = await read_events(reader, writer, conn, 1)
        assert closing == [CloseReceived(4001, "bye ✓")]  # ws echoes code and reason
        writer.close()  # ws reports the close once the TCP connection is gone
        summary = json.loads(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT))
        assert summary["closed"] == 4001
        assert summary["reason"] == "bye ✓"
        assert ("permessage-deflate" in (summary["extensions"] or "")) is use_deflate
    finally:
        writer.close()
        await writer.wait_closed()
        proc.kill()
        await proc.wait()
