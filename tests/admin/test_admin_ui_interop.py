"""The Admin UI's server side against socket.io-client@4 playing the UI (tests/node/admin_ui_client.js).

Each test serves an instrumented siox server on a free port; the Node script logs in to
``/admin`` as the real UI does and drives the operations the UI offers, with app sockets of its
own that report what they saw.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import siox
from legacy.node_run import needs_node, run_node
from rawpeer import running

pytestmark = [pytest.mark.interop, needs_node]
bcrypt = pytest.importorskip("bcrypt")

SCRIPT = "admin_ui_client.js"
USERNAME = "admin"
PASSWORD = "s3cret-pass"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
AUTH = {"type": "basic", "username": USERNAME, "password": HASH}


def app(**options: Any) -> tuple[siox.Server, Any]:
    sio = siox.Server()
    admin = sio.instrument(auth=AUTH, stats_interval=0.3, server_id="node-1", **options)

    @sio.on("from-app")
    def from_app(socket: siox.Socket, *args: Any) -> None:
        pass

    return sio, admin


async def scenario(sio: siox.Server, name: str) -> dict[str, Any]:
    async with running(sio) as port:
        return await run_node(SCRIPT, name, f"http://127.0.0.1:{port}", USERNAME, PASSWORD)


async def test_the_ui_logs_in_sees_sockets_and_operates_on_them() -> None:
    sio, _admin = app()
    started = time.time() * 1000
    result = await scenario(sio, "ui")
    a, b = result["ids"]["a"], result["ids"]["b"]

    # login: a session id, then the features, then every socket
    (session,) = result["session"]
    assert isinstance(session, str) and len(session) >= 16
    features = result["config"][0]["supportedFeatures"]
    assert set(features) == {
        "EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT",
        "AGGREGATED_EVENTS", "ALL_EVENTS",
    }  # fmt: skip
    assert result["againConfig"] == result["config"]  # the session id logs in again
    (sockets,) = result["allSockets"]
    by_id = {s["id"]: s for s in sockets}
    assert {a, b} <= set(by_id)
    sa = by_id[a]
    assert sa["nsp"] == "/" and a in sa["rooms"] and sa["data"] == {}
    assert sa["transport"] in ("polling", "websocket") and by_id[b]["transport"] == "polling"
    assert isinstance(sa["clientId"], str) and sa["clientId"] != by_id[b]["clientId"]
    shake = sa["handshake"]
    assert "auth" not in shake
    assert started - 60_000 < shake["issued"] <= time.time() * 1000  # epoch milliseconds
    assert shake["address"] == "127.0.0.1" and shake["url"].startswith("/socket.io/")
    assert set(shake) >= {"headers", "query", "issued", "secure", "time", "url", "xdomain"}
    assert any(s["nsp"] == "/admin" for s in sockets)

    # server_stats, aggregated
    (stats,) = result["stats"]
    assert stats["serverId"] == "node-1" and isinstance(stats["pid"], int)
    assert stats["clientsCount"] >= 3 and stats["pollingClientsCount"] >= 1
    assert {"name": "/", "socketsCount": 2} in stats["namespaces"]
    kinds = {e["type"] for e in result["statsLater"][0]["aggregatedEvents"]} | {
        e["type"] for e in stats["aggregatedEvents"]
    }
    assert {"rawConnection", "packetsIn", "packetsOut", "bytesIn", "bytesOut"} <= kinds
    for event in stats["aggregatedEvents"]:
        assert event["timestamp"] % 1000 == 0 and event["count"] >= 1

    # operations, through the adapter, and the development-mode reports they cause
    assert result["roomJoined"][:3] == ["/", "vip", a]
    assert result["roomJoined"][3].endswith("Z")  # a JSON date
    assert ["hello", 1, {"x": 2}] in result["heardA"]
    assert not any(event[0] == "hello" for event in result["heardB"])
    assert result["eventSent"][:3] == ["/", a, ["hello", 1, {"x": 2}]]
    assert result["eventReceived"][:3] == ["/", a, ["from-app", "payload"]]
    assert result["roomLeft"][:3] == ["/", "vip", a]
    assert result["reasonB"] == "io server disconnect"
    assert result["socketDisconnected"][:3] == ["/", b, "server namespace disconnect"]
    assert result["aConnected"] is True
    assert {"socket_connected", "room_joined", "room_left"} <= set(result["events"])


async def test_bad_credentials_get_exactly_invalid_credentials() -> None:
    sio, _admin = app()
    result = await scenario(sio, "refused")
    assert result == {
        "wrongPassword": "invalid credentials",
        "wrongUsername": "invalid credentials",
        "nothing": "invalid credentials",
        "madeUpSession": "invalid credentials",
        "notStrings": "invalid credentials",
    }


async def test_read_only_announces_and_does_nothing() -> None:
    sio, _admin = app(read_only=True)
    result = await scenario(sio, "read-only")
    assert result["config"] == [{"supportedFeatures": ["AGGREGATED_EVENTS", "ALL_EVENTS"]}]
    assert result["heardA"] == []
    assert result["bConnected"] is True
    assert not any(
        sio.of("/admin").handlers.get(op) for op in ("join", "leave", "_disconnect", "emit")
    )


async def test_production_mode_sends_only_config_and_stats() -> None:
    sio, _admin = app(mode="production")
    result = await scenario(sio, "production")
    names = [entry[0] for entry in result["log"]]
    assert set(names) == {"session", "config", "server_stats"}
    config = next(entry[1] for entry in result["log"] if entry[0] == "config")
    assert "ALL_EVENTS" not in config["supportedFeatures"]
    assert "AGGREGATED_EVENTS" in config["supportedFeatures"]
    stats = [entry[1] for entry in result["log"] if entry[0] == "server_stats"]
    counted = [e for s in stats for e in s["aggregatedEvents"] if e["type"] == "rawConnection"]
    assert sum(e["count"] for e in counted) >= 2
