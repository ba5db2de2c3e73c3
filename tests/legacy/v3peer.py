"""A raw Engine.IO v3 polling peer for the legacy tests (built on tests/rawpeer.py).

Payloads are written by hand (`v3_payload`) and read with siox's v3 codec, which is checked
against npm engine.io-parser@2 in tests/engineio/test_interop_engineio_parser.py.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import quote

from rawpeer import HttpResult, http
from siox.engineio import EnginePacket, EnginePacketType, decode_payload, utf16_length

V3_PATH = "/socket.io/?EIO=3&transport=polling"
TEXT = "text/plain;charset=UTF-8"
OCTETS = "application/octet-stream"
FORM = "application/x-www-form-urlencoded"
JSONP_TYPE = "text/javascript; charset=UTF-8"


def v3_payload(*packets: str) -> str:
    """A v3 text payload: each packet (``"42[...]"``) prefixed with its UTF-16 length."""
    return "".join(f"{utf16_length(p)}:{p}" for p in packets)


def jsonp_form(payload: str) -> str:
    """The form body engine.io-client 3.x posts for ``payload`` (polling-jsonp.js doWrite)."""
    value = payload.replace("\\n", "\\\n").replace("\n", "\\n")
    return "d=" + quote(value, safe="").replace("%20", "+")


def v3_binary_payload(*records: str | bytes) -> bytes:
    """A v3 binary payload: text packets as given, bytes as binary MESSAGE records (0x04)."""
    out = bytearray()
    for record in records:
        if isinstance(record, str):
            body, flag = record.encode(), 0
        else:
            body, flag = b"\x04" + record, 1
        out += bytes([flag, *(int(d) for d in str(len(body))), 0xFF]) + body
    return bytes(out)


def jsonp_payload(result: HttpResult) -> str:
    """The payload inside a JSONP answer ``___eio[N]("...");``."""
    text = result.text
    assert result.headers["content-type"] == JSONP_TYPE, result.headers
    assert re.fullmatch(r'___eio\[[0-9]+\]\(".*"\);', text, re.DOTALL), text
    payload: str = json.loads(text[text.index("(") + 1 : -2])
    return payload


def read_payload(result: HttpResult) -> list[EnginePacket]:
    """The packets of a v3 polling response (text, binary or JSONP payload)."""
    assert result.status == 200, (result.status, result.body)
    content_type = result.headers.get("content-type", "")
    if content_type == JSONP_TYPE:
        return decode_payload(jsonp_payload(result), eio=3)
    binary = content_type.startswith(OCTETS)
    return decode_payload(result.body if binary else result.text, eio=3, binary=binary)


class V3Polling:
    """One v3 polling session (``query`` is appended to every request, e.g. ``"&b64=1"``)."""

    def __init__(self, port: int, query: str = "") -> None:
        self.port = port
        self.query = query
        self.sid = ""
        self.inbox: list[str | bytes] = []

    def url(self, extra: str = "") -> str:
        sid = f"&sid={self.sid}" if self.sid else ""
        return f"{V3_PATH}{sid}{self.query}{extra}"

    async def open(self) -> dict[str, Any]:
        """Handshake; returns the OPEN data (messages sent with it go to the inbox)."""
        packets = read_payload(await http(self.port, "GET", self.url()))
        assert packets[0].type is EnginePacketType.OPEN
        data: dict[str, Any] = json.loads(packets[0].data)
        self.sid = data["sid"]
        self.inbox.extend(p.data for p in packets[1:] if p.type is EnginePacketType.MESSAGE)
        return data

    async def get(self, extra: str = "", timeout: float = 5.0) -> HttpResult:
        return await http(self.port, "GET", self.url(extra), timeout=timeout)

    async def post(
        self, body: str | bytes, content_type: str = TEXT, extra: str = ""
    ) -> HttpResult:
        data = body.encode() if isinstance(body, str) else body
        return await http(
            self.port, "POST", self.url(extra), data, headers=[("Content-Type", content_type)]
        )

    async def send(self, *packets: str) -> None:
        """POST Engine.IO packets (``"42[...]"``) as a text payload (a form for JSONP)."""
        payload = v3_payload(*packets)
        if "&j=" in self.query:
            result = await self.post(jsonp_form(payload), FORM)
        else:
            result = await self.post(payload)
        assert (result.status, result.text) == (200, "ok"), result.body

    async def receive(self, count: int = 1, timeout: float = 5.0) -> list[str | bytes]:
        """The next ``count`` MESSAGE payloads (polling as needed)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.inbox) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, f"only {self.inbox!r} within {timeout} s"
            for packet in read_payload(await self.get(timeout=remaining)):
                if packet.type is EnginePacketType.MESSAGE:
                    self.inbox.append(packet.data)
        taken, self.inbox = self.inbox[:count], self.inbox[count:]
        return taken

    async def alive(self) -> bool:
        """Whether the sid is still known (a noop-free probe: POST an empty packet list)."""
        result = await self.post("0:")
        return result.status == 200
