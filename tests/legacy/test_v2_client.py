"""The real npm socket.io-client@2 (Engine.IO v3, Socket.IO protocol 4) against siox.

Each test serves tests/legacy/app.py in-process (``allow_eio3=True``, a free port) and runs one
scenario of tests/node/v2_client_scenarios.js: polling, WebSocket, polling -> WebSocket upgrade,
JSONP polling, and a 2.x and a 4.x client sharing a room.
"""

from __future__ import annotations

from typing import Any

import pytest

from legacy.app import serving
from legacy.node_run import needs_node, run_node

pytestmark = [pytest.mark.interop, needs_node]

TEXT_ARGS = ["héllo ☃", "astral 😀𝄞 end", {"n": 1, "list": [1, "two", None, True]}]
BINARY_ARGS = [b"\x00\x01\x02\xff", {"nested": b"xyz"}]


def check_exchanges(result: dict[str, Any]) -> None:
    """What every 2.x client scenario must have seen on its main socket."""
    # "/" -> the Engine.IO sid, as socket.io 4.8 (allowEIO3) and 2.x do for these clients.
    assert result["id"] == result["engine_id"]
    # Acks both ways; astral characters cross the v3 framing (UTF-16 lengths) both ways.
    assert result["echo"] == TEXT_ARGS
    assert result["binary_echo"] == BINARY_ARGS
    assert result["question"] == ["q1", b"\x01"]  # server -> client event with an ack ...
    assert result["ask"] == ["answer", b"\x09\x08"]  # ... answered with a binary ack
    assert result["bin"] == [b"\x00\x01\xff", {"nested": b"xyz", "list": [b"", 7]}]
    # The implicit "/" gets auth {} (socket.io 4.8); the query stays in the handshake.
    assert result["whoami"] == {
        "id": result["id"],
        "nsp": "/",
        "auth": {},
        "query_token": "abc",
    }


@pytest.mark.parametrize("mode", ["polling", "websocket", "upgrade"])
async def test_v2_client_talks_to_siox(mode: str) -> None:
    async with serving() as (port, _, record):
        result = await run_node("v2_client_scenarios.js", "main", f"http://127.0.0.1:{port}", mode)
    first, final = {
        "polling": ("polling", "polling"),
        "websocket": ("websocket", "websocket"),
        "upgrade": ("polling", "websocket"),
    }[mode]
    assert (result["first_transport"], result["final_transport"]) == (first, final)
    check_exchanges(result)
    sid = result["id"]
    # Other namespaces: "nsp#sid"; the ?query of the CONNECT is the auth dict.
    assert result["chat_id"] == f"/chat#{sid}"
    assert result["chat_whoami"] == {
        "id": f"/chat#{sid}",
        "nsp": "/chat",
        "auth": {"room": "blue", "token": "t 1&2"},
        "query_token": "abc",
    }
    assert record.auth[f"/chat#{sid}"] == {"room": "blue", "token": "t 1&2"}
    assert result["dynamic_whoami"]["id"] == f"/dyn-42#{sid}"
    # Refusals as socket.io 4.8 sends them to 2.x clients: `err.data || err.message`, and
    # {"message": "Invalid namespace"} for an unknown namespace (2.x sent the bare string).
    assert result["private_error"] == {"reason": "bad token"}
    assert result["private_plain_error"] == "go away"
    assert result["unknown_error"] == {"message": "Invalid namespace"}
    assert record.errors == []


async def test_v2_client_over_jsonp_polling() -> None:
    async with serving() as (port, _, record):
        result = await run_node("v2_client_scenarios.js", "jsonp", f"http://127.0.0.1:{port}")
    assert result["transport_kind"] == "JSONPPolling"
    assert result["j"] == 0
    check_exchanges(result)  # binary travels as base64 ("b4" records) inside the scripts
    # Newlines, escaped newlines, U+2028/U+2029 and HTML-ish text survive the form and script.
    assert result["tricky_echo"] == [
        "line1\nline2",
        "back\\nslash \\\\n",
        "\u2028sep\u2029",
        '</script><b>&amp;"',
    ]
    scripts = result["scripts"]
    assert scripts
    for script in scripts:
        assert script["status"] == 200
        assert script["type"] == "text/javascript; charset=UTF-8"
        assert script["head"] == "___eio[0]"
        assert script["ascii"] is True  # every non-ASCII character is a \u escape
    assert any("\\n" in form for form in result["forms"])  # the client did escape newlines
    assert record.errors == []


async def test_rooms_and_broadcasts_reach_v2_and_v4_clients_alike() -> None:
    async with serving() as (port, _, record):
        result = await run_node("v2_client_scenarios.js", "mixed", f"http://127.0.0.1:{port}")
    v2, v4 = result["v2"], result["v4"]
    assert v2["join"] == v4["join"] == [["room1"]]
    heard = [["from v2", b"\x01\x02"], ["from v4", {"x": b"\x03"}]]
    assert v2["news"] == heard  # encoded with the protocol-4 parser ...
    assert v4["news"] == heard  # ... and with the protocol-5 one
    assert result["ask_room"] == ["v2 in room1", "v4 in room1"]  # acks from both generations
    assert len(v2["id"]) == len(v4["id"]) == 20
    assert record.errors == []
