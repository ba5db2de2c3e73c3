"""Fixtures for the Engine.IO codec tests: the npm engine.io-parser oracle in Node.

The oracle is tests/node/eio_oracle.js, started once per test session.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from siox.engineio import EnginePacket, EnginePacketType

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
ORACLE = NODE_DIR / "eio_oracle.js"

_TYPE_NAMES = {t: t.name.lower() for t in EnginePacketType}
_TYPES_BY_NAME = {name: t for t, name in _TYPE_NAMES.items()}


def to_wire(value: str | bytes) -> Any:
    """A frame, body or packet data in the oracle's JSON envelope."""
    if isinstance(value, str):
        return value
    return {"bin": base64.b64encode(value).decode("ascii")}


def from_wire(value: Any) -> str | bytes:
    """The inverse of `to_wire`."""
    if isinstance(value, str):
        return value
    return base64.b64decode(value["bin"])


def packet_to_wire(packet: EnginePacket) -> dict[str, Any]:
    """A siox packet as npm's ``{type, data}`` (no ``data`` for an empty text packet)."""
    out: dict[str, Any] = {"type": _TYPE_NAMES[packet.type]}
    if packet.data != "":
        out["data"] = to_wire(packet.data)
    return out


def packet_from_wire(value: dict[str, Any]) -> EnginePacket:
    """An npm packet as a siox packet (an absent ``data`` is ``""``)."""
    return EnginePacket(_TYPES_BY_NAME[value["type"]], from_wire(value.get("data", "")))


class EioOracle:
    """One long-lived Node process answering engine.io-parser requests, one JSON line each."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            ["node", str(ORACLE)],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._next_id = 0

    def call(self, op: str, **request: Any) -> dict[str, Any]:
        """Send one request and return the answer."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._next_id += 1
        request.update(op=op, id=self._next_id)
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the oracle exited (code {self._process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        assert answer["id"] == self._next_id, answer
        if "exception" in answer:
            raise RuntimeError(f"oracle failure on {request}: {answer['exception']}")
        return answer

    # Convenience wrappers, in siox terms.

    def encode_packet(self, packet: EnginePacket, *, eio: int, binary: bool = True) -> str | bytes:
        answer = self.call(
            "encodePacket", eio=eio, packet=packet_to_wire(packet), supportsBinary=binary
        )
        return from_wire(answer["frame"])

    def decode_packet(self, frame: str | bytes, *, eio: int) -> EnginePacket | None:
        """The decoded packet, or None for npm's parser error."""
        answer = self.call("decodePacket", eio=eio, frame=to_wire(frame))
        if answer["error"]:
            return None
        return packet_from_wire(answer["packet"])

    def decode_packet_raw(self, frame: str | bytes, *, eio: int) -> dict[str, Any]:
        return self.call("decodePacket", eio=eio, frame=to_wire(frame))

    def encode_payload(self, packets: list[EnginePacket], *, eio: int, binary: bool) -> str | bytes:
        answer = self.call(
            "encodePayload",
            eio=eio,
            packets=[packet_to_wire(p) for p in packets],
            supportsBinary=binary,
        )
        return from_wire(answer["body"])

    def decode_payload_raw(self, body: str | bytes, *, eio: int) -> dict[str, Any]:
        return self.call("decodePayload", eio=eio, body=to_wire(body))

    def decode_payload(self, body: str | bytes, *, eio: int) -> list[EnginePacket] | None:
        """The decoded packets, or None when npm reported a parser error."""
        answer = self.decode_payload_raw(body, eio=eio)
        if answer["error"]:
            return None
        return [packet_from_wire(p) for p in answer["packets"]]

    def close(self) -> None:
        """Stop the Node process."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


@pytest.fixture(scope="session")
def eio_oracle() -> Iterator[EioOracle]:
    """The npm engine.io-parser oracle, started once per test session."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    if not (NODE_DIR / "node_modules" / "engine.io-parser-v2").is_dir():
        pytest.skip("the npm reference packages are not installed (scripts/install)")
    oracle = EioOracle()
    try:
        yield oracle
    finally:
        oracle.close()
