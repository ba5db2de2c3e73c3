"""The chat demo (examples/chat) with siox clients: names, messages, typing, blank messages.

The page itself runs in a real browser in tests/browser/test_chat_demo.py.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

import siox

BUNDLE = Path(__file__).resolve().parents[2] / "examples" / "chat" / "node_modules"

pytestmark = pytest.mark.skipif(
    not (BUNDLE / "socket.io-client" / "dist" / "socket.io.min.js").is_file(),
    reason="npm ci in examples/chat first (scripts/install runs it)",
)


def first(value: Any) -> Any:
    """An event's first argument (with recovery on, the server appends an offset)."""
    return value[0] if isinstance(value, tuple) else value


async def chat_round(url: str) -> None:
    async with siox.connect(url, auth={"name": "  Ada  "}, wait_timeout=10) as ada:
        joined = asyncio.ensure_future(ada.wait_for("system", timeout=10))
        async with siox.connect(url, auth={"name": "Bob"}, wait_timeout=10) as bob:
            assert first(await joined) == "Bob joined"
            typing = asyncio.ensure_future(bob.wait_for("typing", timeout=10))
            while not typing.done():  # volatile: dropped while Bob's transport cannot take it
                await ada.emit("typing")
                await asyncio.wait([typing], timeout=0.2)
            assert first(typing.result()) == "Ada"
            assert await ada.emit_with_ack("chat", "   ", timeout=5) is False
            assert await ada.emit_with_ack("chat", 42, timeout=5) is False
            said = asyncio.ensure_future(bob.wait_for("chat", timeout=10))
            assert await ada.emit_with_ack("chat", " hello Bob ", timeout=5) is True
            assert first(await said) == {"from": "Ada", "text": "hello Bob"}
            users = asyncio.ensure_future(ada.wait_for("users", timeout=10))
        assert first(await users) == ["Ada"]  # Bob left


def test_two_clients_chat_through_the_demo(run_example: Callable[..., Any]) -> None:
    runner: AbstractContextManager[str] = run_example("chat/app.py")
    with runner as url:
        with urllib.request.urlopen(url + "/", timeout=10) as page:
            assert b'<script src="/socket.io/socket.io.min.js">' in page.read()
        with urllib.request.urlopen(url + "/socket.io/socket.io.min.js", timeout=10) as bundle:
            assert bundle.headers["ETag"].startswith('"4.')
        asyncio.run(chat_round(url))
