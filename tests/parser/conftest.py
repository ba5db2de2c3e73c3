"""The Node oracle for the parser interop tests: npm socket.io-parser and socket.io-msgpack-parser.

The ``sio_oracle`` fixture starts ``tests/node/sio_oracle.js`` once per session (skipped only when
``node`` is not installed) and wraps its JSON-lines protocol; requests go in batches, so a whole
hypothesis run costs a handful of round trips. Values cross the pipe with the tags the script's
header describes (``{"$bin": ...}`` for bytes, ``{"$num": ...}`` for NaN/infinities/-0).
"""

from __future__ import annotations

import base64
import json
import math
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from siox.parser import Packet, PacketType

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
ORACLE_SCRIPT = NODE_DIR / "sio_oracle.js"


class Raw:
    """A value sent to the oracle exactly as given (to write tags such as ``{"$undef": true}``)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def to_tagged(value: Any) -> Any:
    """A Python value as the oracle's tagged JSON."""
    if isinstance(value, Raw):
        return value.value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bin": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, float):
        if math.isnan(value):
            return {"$num": "NaN"}
        if math.isinf(value):
            return {"$num": "Infinity" if value > 0 else "-Infinity"}
        if value == 0 and math.copysign(1.0, value) < 0:
            return {"$num": "-0"}
        return value
    if isinstance(value, (list, tuple)):
        return [to_tagged(item) for item in value]
    if isinstance(value, dict):
        out = {key: to_tagged(item) for key, item in value.items()}
        if len(out) == 1 and next(iter(out)).startswith("$"):
            return {"$obj": out}
        return out
    return value


def from_tagged(value: Any) -> Any:
    """The oracle's tagged JSON as a Python value."""
    if isinstance(value, list):
        return [from_tagged(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "$bin":
                return base64.b64decode(arg)
            if key == "$num":
                return float(arg)
            if key == "$obj":
                return {k: from_tagged(v) for k, v in arg.items()}
        return {key: from_tagged(item) for key, item in value.items()}
    return value


def packet_to_wire(packet: Packet) -> dict[str, Any]:
    """A packet as the oracle's ``P`` object."""
    out: dict[str, Any] = {"type": int(packet.type), "nsp": packet.nsp}
    if packet.data is not None:
        out["data"] = to_tagged(packet.data)
    if packet.id is not None:
        out["id"] = packet.id
    return out


def packet_from_wire(wire: dict[str, Any]) -> Packet | dict[str, Any]:
    """The oracle's ``P`` as a `Packet`, or as a dict when npm accepted something odd."""
    ptype, nsp, ack_id = wire.get("type"), wire.get("nsp"), wire.get("id")
    data = from_tagged(wire["data"]) if "data" in wire else None
    valid_id = ack_id is None or type(ack_id) is int
    if type(ptype) is int and 0 <= ptype <= 6 and isinstance(nsp, str) and valid_id:
        return Packet(PacketType(ptype), nsp, data, ack_id)
    return {"type": ptype, "nsp": nsp, "data": data, "id": ack_id}


class DecodeResult:
    """What npm's default Decoder made of a sequence of Engine.IO messages."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.packets = [packet_from_wire(p) for p in answer["packets"]]
        self.error: str | None = answer["error"]
        self.pending: bool = answer["pending"]

    def __repr__(self) -> str:
        return f"DecodeResult({self.packets!r}, error={self.error!r}, pending={self.pending})"


class SioOracle:
    """Client side of ``sio_oracle.js``; every method takes and returns a batch."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process

    @staticmethod
    def raw(value: Any) -> Raw:
        """Wrap a value to send it untagged, e.g. ``raw({"$undef": True})`` for undefined."""
        return Raw(value)

    def run(self, requests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send raw requests in one batch; return the raw answers."""
        if not requests:
            return []
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps({"batch": list(requests)}) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the Node oracle exited")
        reply = json.loads(line)
        if "exception" in reply:
            raise RuntimeError(f"oracle: {reply['exception']}")
        answers: list[dict[str, Any]] = reply["batch"]
        for answer in answers:
            if "exception" in answer:
                raise RuntimeError(f"oracle: {answer['exception']}")
        return answers

    def encode_default(self, packets: Sequence[Packet]) -> list[list[str | bytes]]:
        """npm socket.io-parser's Encoder output for each packet (text, then attachments)."""
        answers = self.run([{"op": "encodeDefault", "packet": packet_to_wire(p)} for p in packets])
        return [[_item_from_wire(item) for item in a["items"]] for a in answers]

    def decode_default(self, messages: Sequence[Sequence[str | bytes]]) -> list[DecodeResult]:
        """Feed each message sequence to a fresh npm Decoder."""
        requests = [
            {"op": "decodeDefault", "items": [_item_to_wire(item) for item in items]}
            for items in messages
        ]
        return [DecodeResult(a) for a in self.run(requests)]

    def encode_msgpack(self, packets: Sequence[Packet | dict[str, Any]]) -> list[bytes]:
        """npm socket.io-msgpack-parser's Encoder output for each packet.

        A dict is sent as the ``P`` object as is (its values tagged), for packets no `Packet`
        can express (``{"$undef": true}`` data, a Date, an ArrayBuffer...).
        """
        requests = [
            {
                "op": "encodeMsgpack",
                "packet": packet_to_wire(p)
                if isinstance(p, Packet)
                else {k: to_tagged(v) for k, v in p.items()},
            }
            for p in packets
        ]
        return [base64.b64decode(a["bytes"]) for a in self.run(requests)]

    def decode_msgpack(
        self, messages: Sequence[bytes]
    ) -> list[tuple[Packet | dict[str, Any] | None, str | None]]:
        """npm socket.io-msgpack-parser's Decoder result for each message: (packet, error)."""
        requests = [
            {"op": "decodeMsgpack", "bytes": base64.b64encode(m).decode()} for m in messages
        ]
        return [
            (packet_from_wire(a["packet"]), None) if "packet" in a else (None, a["error"])
            for a in self.run(requests)
        ]


def _item_to_wire(item: str | bytes) -> Any:
    return item if isinstance(item, str) else {"$bin": base64.b64encode(item).decode()}


def _item_from_wire(item: Any) -> str | bytes:
    return item if isinstance(item, str) else base64.b64decode(item["$bin"])


@pytest.fixture(scope="session")
def sio_oracle() -> Iterator[SioOracle]:
    """The running Node oracle (the test is skipped when ``node`` is not installed)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the npm reference parsers cannot run")
    process = subprocess.Popen(
        [node, str(ORACLE_SCRIPT)],
        cwd=NODE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        yield SioOracle(process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
