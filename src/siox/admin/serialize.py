"""Sockets and times as the Admin UI expects them (the reference's payload shapes).

A socket is ``{id, clientId, transport, nsp, data, handshake, rooms}``; its handshake never
carries ``auth`` (it may hold tokens), and ``issued`` is in epoch milliseconds. A socket held by
another server of the cluster comes from ``fetch_sockets`` with its ``data`` and handshake as
that server described them; ``data["_admin"]`` then tells its client id and transport (every
instrumented server, siox or Node, puts them there in development mode).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from typing import Any

__all__ = ["ADMIN_KEY", "client_id", "now_iso", "serialize_socket"]

#: The key of ``socket.data`` where development mode keeps a socket's client id and transport.
ADMIN_KEY = "_admin"
_HANDSHAKE_KEYS = ("headers", "query", "issued", "secure", "time", "url", "xdomain")
_SALT = os.urandom(16)


def now_iso() -> str:
    """Now as JavaScript's ``JSON.stringify(new Date())`` writes it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def client_id(engine_sid: str) -> str:
    """A short id of an Engine.IO session that does not reveal the session id (a secret)."""
    return hashlib.blake2s(engine_sid.encode(), key=_SALT, digest_size=6).hexdigest()


def json_safe(value: Any) -> Any:
    """``value`` with whatever JSON cannot carry replaced by its ``repr`` (bytes are kept)."""
    if value is None or isinstance(value, str | int | float | bool | bytes):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _handshake(handshake: Any) -> dict[str, Any]:
    if isinstance(handshake, dict):
        source = handshake
    else:
        source = {key: getattr(handshake, key, None) for key in (*_HANDSHAKE_KEYS, "address")}
    headers = source.get("headers") or {}
    out = {key: source.get(key) for key in _HANDSHAKE_KEYS}
    if out["xdomain"] is None:
        out["xdomain"] = "origin" in headers
    out["address"] = (
        headers.get("cf-connecting-ip") or headers.get("x-forwarded-for") or source.get("address")
    )
    return json_safe(out)  # type: ignore[no-any-return]


def serialize_socket(socket: Any, nsp: str) -> dict[str, Any]:
    """One socket, local (`siox.Socket`) or remote (`siox.adapters.RemoteSocket`)."""
    data = socket.data if isinstance(socket.data, dict) else {}
    found = data.get(ADMIN_KEY)
    admin: dict[str, Any] = found if isinstance(found, dict) else {}
    driver = getattr(socket, "driver", None)
    cid: Any
    transport: Any
    if driver is not None:  # a local socket: ask its connection
        cid, transport = client_id(driver.conn.sid), socket.transport
    else:
        cid, transport = admin.get("clientId"), admin.get("transport")
    return {
        "id": socket.id,
        "clientId": cid,
        "transport": transport,
        "nsp": nsp,
        "data": json_safe({k: v for k, v in data.items() if k != ADMIN_KEY}),
        "handshake": _handshake(socket.handshake),
        "rooms": sorted(socket.rooms),
    }
