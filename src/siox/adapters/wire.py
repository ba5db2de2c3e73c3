"""The cluster wire format of npm ``@socket.io/redis-adapter`` 8.3 (the classic protocol).

Broadcasts are notepack (MessagePack) arrays ``[uid, packet, opts]``; requests and responses
are JSON objects, except a broadcast with acks and its acks, which are notepack maps. A
message is told apart by its first byte: ``{`` is JSON. Everything decoded here comes from the
network: it is checked (types, nesting, size) and never executed; a bad message raises
`WireError` and the caller logs it and drops it.

notepack's extension types are read as notepack writes them: ``fixext 1`` type 0 is
``undefined`` (None here), ``fixext 8`` type 0 a Date (an ISO string here, as socket.io-parser
would send it), any other type-0 extension an ArrayBuffer (bytes). ``bytes`` go out as
MessagePack ``bin``, which notepack reads as a Buffer.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import msgpack

from ..parser import Packet, PacketType
from .base import BroadcastOptions

__all__ = [
    "MAX_DEPTH",
    "RequestType",
    "WireError",
    "check_data",
    "decode_broadcast",
    "decode_message",
    "encode_broadcast",
    "encode_json",
    "encode_notepack",
    "options_from_wire",
    "options_to_wire",
    "packet_from_wire",
    "packet_to_wire",
]

#: The deepest nesting accepted in a payload from the cluster.
MAX_DEPTH = 32


class RequestType:
    """Request types of the classic protocol."""

    SOCKETS = 0
    ALL_ROOMS = 1
    REMOTE_JOIN = 2
    REMOTE_LEAVE = 3
    REMOTE_DISCONNECT = 4
    REMOTE_FETCH = 5
    SERVER_SIDE_EMIT = 6
    BROADCAST = 7
    BROADCAST_CLIENT_COUNT = 8
    BROADCAST_ACK = 9


class WireError(ValueError):
    """A message from the cluster that is malformed, foreign or too large."""


def _ext_hook(code: int, data: bytes) -> Any:
    if code != 0:
        raise WireError(f"unknown MessagePack extension type {code}")
    if len(data) == 1:
        return None  # notepack's undefined
    if len(data) == 8:
        millis = int.from_bytes(data[:4], "big", signed=True) * 2**32 + int.from_bytes(
            data[4:], "big"
        )
        try:
            moment = datetime.fromtimestamp(millis / 1000, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise WireError("a Date out of range") from exc
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return bytes(data)


def encode_notepack(value: Any) -> bytes:
    """``value`` as notepack writes it (``bytes`` as ``bin``)."""
    result: bytes = msgpack.packb(value, use_bin_type=True, datetime=False)
    return result


def encode_json(value: Any) -> bytes:
    """``value`` as compact JSON (UTF-8); bytes are refused, as JSON cannot carry them."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"not JSON-serializable for the cluster: {exc}") from exc


def decode_message(data: bytes, max_size: int) -> Any:
    """A request or response: JSON when it starts with ``{``, else notepack."""
    if len(data) > max_size:
        raise WireError(f"{len(data)} bytes, more than the {max_size} allowed")
    try:
        if data[:1] == b"{":
            return json.loads(data)
        return msgpack.unpackb(data, raw=False, ext_hook=_ext_hook, strict_map_key=True)
    except WireError:
        raise
    except (ValueError, TypeError, RecursionError, msgpack.UnpackException) as exc:
        raise WireError(f"undecodable: {exc!r}"[:200]) from exc


def check_data(value: Any, depth: int = 0) -> None:
    """Raise `WireError` unless ``value`` is plain data siox can send to a client."""
    if depth > MAX_DEPTH:
        raise WireError("nested too deep")
    if value is None or isinstance(value, (str, bool, int, bytes)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise WireError("a non-finite number")
        return
    if isinstance(value, list):
        for item in value:
            check_data(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise WireError("a map key that is not a string")
            check_data(item, depth + 1)
        return
    raise WireError(f"a value of type {type(value).__name__}")


def _str_list(value: Any, what: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise WireError(f"{what} is not a list")
    rooms = set()
    for room in value:
        if isinstance(room, bool) or not isinstance(room, (str, int, float)):
            raise WireError(f"{what} holds a {type(room).__name__}")
        rooms.add(room if isinstance(room, str) else str(room))
    return frozenset(rooms)


def options_to_wire(opts: BroadcastOptions) -> dict[str, Any]:
    """``{rooms, except, flags}`` as the npm adapter sends them."""
    flags: dict[str, Any] = {}
    if opts.volatile:
        flags["volatile"] = True
    if not opts.compress:
        flags["compress"] = False
    if opts.timeout is not None:
        flags["timeout"] = round(opts.timeout * 1000)
    return {"rooms": sorted(opts.rooms), "except": sorted(opts.except_rooms), "flags": flags}


def options_from_wire(value: Any) -> BroadcastOptions:
    """The `BroadcastOptions` of a wire ``opts`` object (never ``local``)."""
    if not isinstance(value, dict):
        raise WireError("opts is not a map")
    flags = value.get("flags") or {}
    if not isinstance(flags, dict):
        raise WireError("opts.flags is not a map")
    return BroadcastOptions(
        rooms=_str_list(value.get("rooms"), "opts.rooms"),
        except_rooms=_str_list(value.get("except"), "opts.except"),
        volatile=flags.get("volatile") is True,
        compress=flags.get("compress") is not False,
    )


def packet_to_wire(packet: Packet) -> dict[str, Any]:
    """A broadcast packet as socket.io hands it to its adapter."""
    return {"type": int(PacketType.EVENT), "data": packet.data, "nsp": packet.nsp}


def packet_from_wire(value: Any, nsp: str) -> Packet | None:
    """The EVENT packet of a wire packet for namespace ``nsp`` (None: another namespace)."""
    if not isinstance(value, dict):
        raise WireError("packet is not a map")
    if value.get("nsp", "/") != nsp:
        return None
    if value.get("type") not in (PacketType.EVENT, PacketType.BINARY_EVENT):
        raise WireError(f"packet type {value.get('type')!r} is not an event")
    data = value.get("data")
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        raise WireError("packet data is not [event, ...args]")
    check_data(data)
    return Packet(PacketType.EVENT, nsp, data)


def encode_broadcast(uid: str, packet: Packet, opts: BroadcastOptions) -> bytes:
    """The notepack ``[uid, packet, opts]`` of a broadcast."""
    return encode_notepack([uid, packet_to_wire(packet), options_to_wire(opts)])


def decode_broadcast(
    data: bytes, nsp: str, max_size: int
) -> tuple[str, Packet, BroadcastOptions] | None:
    """``(uid, packet, opts)`` of a broadcast message (None: for another namespace)."""
    if len(data) > max_size:
        raise WireError(f"{len(data)} bytes, more than the {max_size} allowed")
    message = decode_message(data, max_size)
    if isinstance(message, dict) and "uid" in message and "type" in message:
        raise WireError(
            "a sharded or streams adapter message: another kind of adapter uses this key "
            "prefix (give the two clusters different keys)"
        )
    if not isinstance(message, list) or len(message) < 3:
        raise WireError("not an [uid, packet, opts] array")
    uid, raw_packet, raw_opts = message[0], message[1], message[2]
    if not isinstance(uid, str):
        raise WireError("uid is not a string")
    packet = packet_from_wire(raw_packet, nsp)
    if packet is None:
        return None
    return uid, packet, options_from_wire(raw_opts)
