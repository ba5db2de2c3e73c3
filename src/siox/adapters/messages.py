"""The message format of socket.io-adapter 2.5's ``ClusterAdapter`` (sharded and streams adapters).

Every message is a map ``{uid, nsp, type, data}`` with ``type`` one of `MessageType` (1-13);
responses go to the requester's own channel. The sharded adapter of npm
``@socket.io/redis-adapter`` 8.3 sends them as JSON, or as notepack (MessagePack) when the data
holds binary; npm ``@socket.io/redis-streams-adapter`` 0.3 sends them with ``@msgpack/msgpack``
(which keeps keys whose value is ``undefined``, as nil) on Pub/Sub, and as stream entries
``{uid, nsp, type: "3", data: JSON or base64 MessagePack}`` in its stream. Everything decoded
here comes from the network: it is checked and never executed; bad input raises `WireError`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from datetime import datetime
from enum import IntEnum
from typing import Any

import msgpack

from .wire import WireError, decode_message, encode_json, encode_notepack

__all__ = [
    "MessageType",
    "decode_any",
    "decode_entry",
    "decode_msgpack",
    "encode_entry",
    "encode_msgpack",
    "encode_sharded",
    "has_binary",
    "new_node_uid",
]


class MessageType(IntEnum):
    """socket.io-adapter's cluster message types."""

    INITIAL_HEARTBEAT = 1
    HEARTBEAT = 2
    BROADCAST = 3
    SOCKETS_JOIN = 4
    SOCKETS_LEAVE = 5
    DISCONNECT_SOCKETS = 6
    FETCH_SOCKETS = 7
    FETCH_SOCKETS_RESPONSE = 8
    SERVER_SIDE_EMIT = 9
    SERVER_SIDE_EMIT_RESPONSE = 10
    BROADCAST_CLIENT_COUNT = 11
    BROADCAST_ACK = 12
    ADAPTER_CLOSE = 13


#: the types whose data may hold binary values (the npm adapters' list)
MAY_HOLD_BINARY = frozenset(
    (
        MessageType.BROADCAST,
        MessageType.BROADCAST_ACK,
        MessageType.FETCH_SOCKETS_RESPONSE,
        MessageType.SERVER_SIDE_EMIT,
        MessageType.SERVER_SIDE_EMIT_RESPONSE,
    )
)


def new_node_uid() -> str:
    """A node uid as socket.io-adapter makes them (8 random bytes, hex)."""
    return secrets.token_hex(8)


def has_binary(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` holds ``bytes`` anywhere."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return True
    if depth > 32:
        return False
    if isinstance(value, list):
        return any(has_binary(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return any(has_binary(item, depth + 1) for item in value.values())
    return False


def encode_sharded(message: dict[str, Any]) -> bytes:
    """A message as the sharded adapter sends it: JSON, or notepack when it holds binary."""
    if message.get("type") in MAY_HOLD_BINARY and has_binary(message.get("data")):
        return encode_notepack(message)
    return encode_json(message)


def decode_any(data: bytes, max_size: int) -> Any:
    """A sharded-adapter message (JSON when it starts with ``{``, else notepack)."""
    return decode_message(data, max_size)


def _msgpack_ext(code: int, data: bytes) -> Any:
    raise WireError(f"unknown MessagePack extension type {code}")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _dates_to_iso(value: Any, depth: int = 0) -> Any:
    """``value`` with its Dates (timestamp extension) as ISO strings, as socket.io sends them."""
    if depth > 32:
        raise WireError("nested too deep")
    if isinstance(value, list):
        return [_dates_to_iso(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {key: _dates_to_iso(item, depth + 1) for key, item in value.items()}
    if isinstance(value, datetime):
        return _iso(value)
    return value


def encode_msgpack(value: Any) -> bytes:
    """``value`` as ``@msgpack/msgpack`` writes it (``bytes`` as ``bin``)."""
    return encode_notepack(value)


def decode_msgpack(data: bytes, max_size: int) -> Any:
    """A message ``@msgpack/msgpack`` wrote (checked size; nil reads as None)."""
    if len(data) > max_size:
        raise WireError(f"{len(data)} bytes, more than the {max_size} allowed")
    try:
        value = msgpack.unpackb(
            data, raw=False, ext_hook=_msgpack_ext, strict_map_key=True, timestamp=3
        )
    except WireError:
        raise
    except (ValueError, TypeError, RecursionError, msgpack.UnpackException) as exc:
        raise WireError(f"undecodable: {exc!r}"[:200]) from exc
    return _dates_to_iso(value)


def encode_entry(message: dict[str, Any]) -> dict[str, str]:
    """The stream entry fields of a message (the streams adapter's ``encode``)."""
    fields = {"uid": message["uid"], "nsp": message["nsp"], "type": str(int(message["type"]))}
    data = message.get("data")
    if data:
        if message["type"] in MAY_HOLD_BINARY and has_binary(data):
            fields["data"] = base64.b64encode(encode_msgpack(data)).decode("ascii")
        else:
            fields["data"] = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return fields


def decode_entry(fields: dict[bytes, bytes], max_size: int) -> dict[str, Any]:
    """The message of a stream entry (the streams adapter's ``decode``)."""
    try:
        uid = fields[b"uid"].decode()
        nsp = fields[b"nsp"].decode()
        kind = int(fields[b"type"])
        raw = fields.get(b"data")
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise WireError(f"a stream entry without uid, nsp or type: {exc!r}") from exc
    message: dict[str, Any] = {"uid": uid, "nsp": nsp, "type": kind}
    if raw:
        if len(raw) > max_size:
            raise WireError(f"{len(raw)} bytes, more than the {max_size} allowed")
        if raw[:1] == b"{":
            try:
                message["data"] = json.loads(raw)
            except (ValueError, RecursionError) as exc:
                raise WireError(f"undecodable JSON: {exc!r}"[:200]) from exc
        else:
            try:
                decoded = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise WireError("data is neither JSON nor base64") from exc
            message["data"] = decode_msgpack(decoded, max_size)
    return message
