"""Typed events against the real socket.io-client 4.8 (tests/node/typed_client.js)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import siox
from siox.typed import INVALID_PAYLOAD
from typed.typed_app import ChatMessage, Mood, build

SCRIPT = Path(__file__).resolve().parents[1] / "node" / "typed_client.js"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")


async def _run_client(url: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPT),
        url,
        cwd=SCRIPT.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    except TimeoutError:
        process.kill()  # the process this test started, by its handle
        await process.wait()
        raise
    line = json.loads(out.decode().strip().splitlines()[-1])
    assert "result" in line, (line, err.decode())
    result: dict[str, Any] = line["result"]
    return result


async def test_socket_io_client_gets_converted_acks_and_the_error_value() -> None:
    sio = build()
    errors: list[siox.ErrorContext] = []

    @sio.on_error
    def hook(exc: BaseException, context: siox.ErrorContext) -> None:
        errors.append(context)

    async with siox.serve(sio, host="127.0.0.1", port=0, shutdown_timeout=0.5) as serving:
        result = await _run_client(f"http://127.0.0.1:{serving.port}")

    assert result["valid"] == {"room": "lobby", "length": 5}
    assert result["invalid"] == {
        "error": INVALID_PAYLOAD,
        "event": "chat",
        "details": [{"loc": [0, "text"], "message": "expected a string, got int"}],
    }
    assert result["unexpected"]["details"] == [
        {"loc": [1], "message": "unexpected argument (takes 1)"}
    ]
    assert result["mode"] == "slow"  # an ack of several arguments: emitWithAck gives the first
    assert result["upload"] == 4
    assert result["badUpload"]["details"][0]["message"] == "expected binary data, got str"
    assert result["afterNoAck"] == {"room": "after", "length": 2}
    calls: list[Any] = sio.calls  # type: ignore[attr-defined]
    assert calls == [
        ChatMessage("lobby", "héllo", mood=Mood.GRUMPY),
        ("slow", (4, 5)),
        ("blob", b"\x01\x02\x03\x04"),
        ChatMessage("after", "ok"),
    ]
    assert [(c.event, c.namespace) for c in errors] == [
        ("chat", "/"),
        ("chat", "/"),
        ("upload", "/"),
        ("chat", "/"),  # the refusal nobody asked an ack for is reported all the same
    ]
    assert len({c.socket_id for c in errors}) == 1
