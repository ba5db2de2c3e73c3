"""The msgpack Socket.IO parser, byte-compatible with npm ``socket.io-msgpack-parser`` 3.0.2.

Every packet is one binary message holding a msgpack map ``{"type", "data", "nsp", "id"}``
(``data`` and ``id`` only when present). Binary values travel natively as msgpack ``bin``, so
this parser never produces the attachment types 5/6 (a BINARY_EVENT/BINARY_ACK given to `encode`
goes out as EVENT/ACK) and never needs more than one message per packet.

Encoding follows the choices of notepack.io 2.2 (the npm parser's msgpack library) so the bytes
are identical: the shortest int/str/bin/array/map form; a float with an integral value in the
64-bit range is written as an *integer* (JavaScript has one number type: ``1.0`` goes out as
``0x01``, ``-0.0`` as ``0x00``); other floats, NaN (always the one quiet NaN JavaScript
writes, whatever its payload bits) and infinities as float64; map keys in the ``dict``'s
order. Known differences from notepack, all on inputs where notepack is wrong or JavaScript
has no equivalent:

* an integral float or int beyond the 64-bit range is written as float64 (notepack wraps it
  modulo 2**64 into a wrong uint64); an ``int`` too large for a float becomes +-infinity;
* a lone surrogate in a ``str`` is written as U+FFFD (notepack's short-string path writes invalid
  UTF-8 for it; its long-string path writes U+FFFD as here);
* JavaScript objects list integer-like keys (``"1"``) first, so a ``dict`` with such keys can
  serialize in a different key order than the same object re-encoded in JavaScript.

Decoding accepts what notepack produces for JavaScript values: ``undefined`` (fixext 1 of type
0) is treated as JSON would treat it (an absent packet field or object member, ``None`` in an
array); an ``ArrayBuffer``/typed array (ext 8/16/32 of type 0) becomes ``bytes``; a ``Date``
(fixext 8 of type 0) becomes the ISO string ``JSON.stringify`` would give it. Every other
extension type is refused. Invalid UTF-8 decodes with U+FFFD replacements, as Node does;
integers keep their exact value (JavaScript rounds beyond 2**53); NaN and infinities pass
through both ways, as they do between two npm peers.

Validation is that of the npm parser (``type`` 0-4, ``nsp`` a string, the payload shape per type,
``id`` an integer) made stricter as the default parser is: ``type`` and ``id`` must be ``int``
(not ``bool``/float), ``id`` in ``0..2**53-1`` and only on EVENT/ACK, ``nsp`` must start with
``/``, an EVENT payload must be a non-empty list whose first item is a number or a non-reserved
name, map keys must be unique strings (notepack keeps the last of duplicate keys; siox refuses
them, as one reader may see a value another does not), nesting is limited and a text message
is refused. Errors raise `siox.errors.InvalidPacket` (`siox.errors.PayloadTooLarge` beyond
``max_size``).

(Over the 400-line soft cap: a complete msgpack reader and writer under the parser's strict rules;
kept in one module so its byte-level compatibility with npm notepack is reviewed in one place.)
"""

from __future__ import annotations

import enum
import json
import re
import struct
import uuid
from typing import Any

from ..errors import InvalidPacket, PayloadTooLarge
from ..options import DEFAULT_LIMITS
from .packet import RESERVED_EVENTS, Packet, PacketType, make_packet

try:
    import msgpack as _msgpack
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "siox.parser.msgpack needs the 'msgpack' package; install it with "
        "pip install 'siox[msgpack]'"
    ) from exc

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_SIZE",
    "Decoder",
    "Packet",
    "PacketType",
    "decode",
    "encode",
    "protocol",
]

#: Socket.IO protocol revision this parser speaks.
protocol = 5
#: Default nesting limit of ``data`` (the payload list/map itself is level 1).
DEFAULT_MAX_DEPTH = DEFAULT_LIMITS.max_depth
#: Default size limit of one message in bytes (Engine.IO's default ``maxHttpBufferSize``).
DEFAULT_MAX_SIZE = DEFAULT_LIMITS.max_http_buffer_size
#: Largest depth a `Decoder` accepts as its limit (keeps the decoder's recursion shallow).
MAX_DEPTH_LIMIT = 200

_MAX_ACK_ID = 2**53 - 1
_INT_MIN = -(2**63)
_INT_END = 2**64  # exclusive
_NAN = float("nan")  # bits 0x7ff8000000000000
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCALARS = (type(None), bool, int, float, str, bytes)
_BINARY: tuple[type, ...] = (bytes, bytearray, memoryview)
_MAX_DATE_MS = 8_640_000_000_000_000  # JavaScript's Date range
_UNDEFINED: Any = type("_Undefined", (), {"__repr__": lambda self: "undefined"})()
# Enum attribute access is slow on CPython 3.11: the hot paths use plain ints and tuples.
_CONNECT, _DISCONNECT, _EVENT, _ACK, _CONNECT_ERROR = range(5)
_TYPES = tuple(PacketType)
_WIRE_TYPE = (_CONNECT, _DISCONNECT, _EVENT, _ACK, _CONNECT_ERROR, _EVENT, _ACK)
# Bytes that can start an array or a map; a message with few of them cannot be deep.
_NOT_CONTAINER_START = bytes(b for b in range(256) if not (0x80 <= b <= 0x9F or 0xDC <= b <= 0xDF))


# --------------------------------------------------------------------------- encoding


def encode(packet: Packet) -> list[bytes]:
    """Encode ``packet`` as one msgpack message.

    Args:
        packet: the packet; BINARY_EVENT/BINARY_ACK are sent as EVENT/ACK.

    Returns:
        A one-item list with the message bytes.

    Raises:
        ValueError: the packet breaks the rules a receiver checks (type, namespace, ack id,
            payload shape, reserved event name).
        TypeError: ``data`` holds something that is not JSON-like data or binary.
    """
    ptype, nsp, data, ack_id = packet.type, packet.nsp, packet.data, packet.id
    if type(ptype) is not PacketType and (type(ptype) is not int or not 0 <= ptype <= 6):
        raise ValueError(f"cannot encode packet: unknown packet type {ptype!r}")
    wire_type = _WIRE_TYPE[ptype]
    problem = _packet_problem(wire_type, nsp, data, ack_id)
    if problem is not None:
        raise ValueError(f"cannot encode packet: {problem}")
    obj: dict[str, Any] = {"type": wire_type}
    if data is not None:
        try:
            obj["data"] = _prepare(data)
        except RecursionError:
            raise TypeError("packet data nested too deeply (or cyclic) to encode") from None
    obj["nsp"] = nsp if type(nsp) is str and nsp.isascii() else _prepare(str.__str__(nsp))
    if ack_id is not None:
        obj["id"] = int(ack_id)
    return [_msgpack.packb(obj, use_bin_type=True)]


def _prepare(value: Any) -> Any:
    """A copy of ``value`` holding only what notepack would write for the JavaScript value."""
    kind = type(value)
    if kind is str:
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)
    if kind is int:
        return value if _INT_MIN <= value < _INT_END else _int_as_float(value)
    if kind is list or kind is tuple:
        return [_prepare(item) for item in value]
    if kind is dict:
        return {
            key if type(key) is str and key.isascii() else _key(key): _prepare(item)
            for key, item in value.items()
        }
    if kind is float:
        if value.is_integer() and _INT_MIN <= value < _INT_END:
            return int(value)
        return value if value == value else _NAN  # one NaN, as JavaScript writes it
    if value is None or kind is bool or kind is bytes:
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, enum.Enum):
        return _prepare(value.value)
    if isinstance(value, bool):  # pragma: no cover - bool cannot be subclassed
        return bool(value)
    if isinstance(value, str):
        return _prepare(str.__str__(value))
    if isinstance(value, int):
        return _prepare(int(value))
    if isinstance(value, float):
        return _prepare(float(value))
    if isinstance(value, (list, tuple)):
        return [_prepare(item) for item in value]
    if isinstance(value, dict):
        return {_key(key): _prepare(item) for key, item in value.items()}
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"Object of type {kind.__name__} cannot be encoded by the msgpack parser")


def _int_as_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def _key(key: Any) -> str:
    """A map key as JSON would write it (JavaScript object keys are always strings)."""
    if isinstance(key, str):
        return _prepare(str.__str__(key))  # type: ignore[no-any-return]
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


# --------------------------------------------------------------------------- validation


def _packet_problem(ptype: int, nsp: Any, data: Any, ack_id: Any) -> str | None:
    """What is wrong with these packet fields, or None (``data is _UNDEFINED`` = absent)."""
    if not isinstance(nsp, str) or not nsp.startswith("/"):
        return f"invalid namespace {nsp!r} (must be a string starting with '/')"
    if ack_id is not None:
        if type(ack_id) is bool or not isinstance(ack_id, int) or not 0 <= ack_id <= _MAX_ACK_ID:
            return f"invalid ack id {ack_id!r} (must be an integer in 0..2**53-1)"
        if ptype != _EVENT and ptype != _ACK:
            return f"{_TYPES[ptype].name} packets carry no ack id"
    if ptype == _EVENT:
        ok = isinstance(data, (list, tuple)) and len(data) > 0
        if ok and not _valid_event_name(data[0]):
            return f"invalid event name {data[0]!r}"
    elif ptype == _ACK:
        ok = isinstance(data, (list, tuple))
    elif ptype == _CONNECT:
        ok = data is None or isinstance(data, dict)
    elif ptype == _DISCONNECT:
        ok = data is None
    else:  # CONNECT_ERROR
        ok = isinstance(data, (str, dict))
    if not ok:
        return f"invalid payload for {_TYPES[ptype].name}"
    return None


def _valid_event_name(name: Any) -> bool:
    if isinstance(name, str):
        return name not in RESERVED_EVENTS
    return isinstance(name, (int, float)) and not isinstance(name, bool)


# --------------------------------------------------------------------------- decoding


def decode(
    data: bytes | bytearray | memoryview,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_size: int = DEFAULT_MAX_SIZE,
) -> Packet:
    """Decode one msgpack message into a packet.

    Args:
        data: the binary message.
        max_depth: nesting limit of the packet's ``data``.
        max_size: size limit of the message in bytes.

    Raises:
        InvalidPacket: malformed msgpack or an invalid packet.
        PayloadTooLarge: the message is longer than ``max_size``.
    """
    if not isinstance(data, _BINARY):
        raise TypeError(f"decode() takes bytes, not {type(data).__name__}")
    buf = bytes(data)
    if len(buf) > max_size:
        raise PayloadTooLarge(f"message of {len(buf)} bytes exceeds max_size={max_size}")
    try:
        root = _unpack_fast(buf, max_depth)
    except _AmbiguousExt:
        try:
            root = _Reader(buf, max_depth).document()
        except RecursionError:  # only with a huge max_depth on a small stack
            raise InvalidPacket("data nested deeper than the stack allows") from None
    if type(root) is not dict:
        raise InvalidPacket("invalid packet: not a msgpack map")
    return _to_packet(root)


def _to_packet(root: dict[str, Any]) -> Packet:
    ptype = root.get("type", _UNDEFINED)
    if type(ptype) is not int or not 0 <= ptype <= 4:
        raise InvalidPacket(f"invalid packet type {ptype!r}")
    nsp = root.get("nsp", _UNDEFINED)
    # A nil ``data`` or ``id`` is present (only undefined counts as absent) and never valid.
    data = root.get("data")
    if data is None and "data" in root:
        data = _UNDEFINED
    ack_id = root.get("id")
    if ack_id is None and "id" in root:
        ack_id = _UNDEFINED
    problem = _packet_problem(ptype, nsp, data, ack_id)
    if problem is not None:
        raise InvalidPacket(f"invalid packet: {problem}")
    return make_packet(_TYPES[ptype], nsp, data, ack_id)


class Decoder:
    """Decodes the binary messages of one connection (one packet per message).

    Args:
        max_depth: nesting limit of a packet's ``data`` (default 32, at most 200).
        max_size: size limit of one message in bytes (default 1,000,000).
    """

    def __init__(
        self, *, max_depth: int = DEFAULT_MAX_DEPTH, max_size: int = DEFAULT_MAX_SIZE
    ) -> None:
        if not 1 <= max_depth <= MAX_DEPTH_LIMIT:
            raise ValueError(f"max_depth must be in 1..{MAX_DEPTH_LIMIT}")
        if max_size < 1:
            raise ValueError("max_size must be >= 1")
        self.max_depth = max_depth
        self.max_size = max_size

    def feed(self, chunk: str | bytes | bytearray | memoryview) -> list[Packet]:
        """Decode one message.

        Args:
            chunk: one Engine.IO message; text messages are refused.

        Returns:
            The packet the message holds, as a one-item list.

        Raises:
            InvalidPacket: a text message, malformed msgpack or an invalid packet.
            PayloadTooLarge: the message is longer than ``max_size``.
        """
        if isinstance(chunk, str):
            raise InvalidPacket("the msgpack parser expects binary messages, got text")
        return [decode(chunk, max_depth=self.max_depth, max_size=self.max_size)]


class _AmbiguousExt(Exception):
    """An ext of type 0 whose meaning depends on its format byte: decode in Python."""


def _ext_hook(code: int, data: bytes) -> bytes:
    if code != 0:
        raise InvalidPacket(f"unsupported msgpack extension type {code}")
    if len(data) in (1, 2, 4, 8, 16):  # fixext (undefined, Date, refused) or ext 8
        raise _AmbiguousExt
    return data  # ext 8/16/32 of type 0: a JavaScript ArrayBuffer


def _pairs_to_dict(pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
    for key, _ in pairs:
        if type(key) is not str:
            raise InvalidPacket("invalid msgpack: map keys must be strings")
    result = dict(pairs)
    if len(result) != len(pairs):
        raise InvalidPacket("invalid msgpack: duplicate map key")
    return result


def _unpack_fast(buf: bytes, max_depth: int) -> Any:
    """Decode with the msgpack C extension, then check what it cannot."""
    try:
        root = _msgpack.unpackb(
            buf,
            raw=False,
            unicode_errors="replace",
            ext_hook=_ext_hook,
            object_pairs_hook=_pairs_to_dict,
            strict_map_key=False,
        )
    except (_AmbiguousExt, InvalidPacket):
        raise
    except Exception as exc:  # anything the C decoder raises means malformed input
        raise InvalidPacket(f"invalid msgpack: {_explain(exc)}") from None
    # A msgpack Timestamp (ext -1) needs a 0xff byte; nesting needs container-start bytes.
    if b"\xff" not in buf and len(buf.translate(None, _NOT_CONTAINER_START)) <= max_depth + 1:
        return root
    if type(root) not in (dict, list):
        if type(root) not in _SCALARS:
            raise InvalidPacket(f"unsupported msgpack value {type(root).__name__}")
        return root
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise InvalidPacket(f"data nested deeper than {max_depth}")
        values = item.values() if type(item) is dict else item
        for value in values:
            kind = type(value)
            if kind is dict or kind is list:
                stack.append((value, depth + 1))
            elif kind not in _SCALARS:
                raise InvalidPacket(f"unsupported msgpack value {kind.__name__}")
    return root


def _explain(exc: Exception) -> str:
    """The C decoder's error in the words the Python path uses."""
    text = str(exc)
    if isinstance(exc, _msgpack.ExtraData):
        return "trailing bytes"
    if isinstance(exc, _msgpack.FormatError):
        return "unknown format byte"
    if isinstance(exc, _msgpack.StackError):
        return "nested too deeply"
    if "incomplete input" in text:
        return "truncated message"
    return text


# (struct format, length) of the fixed-size values, keyed by format byte.
_FIXED = {
    0xCA: (">f", 4), 0xCB: (">d", 8),
    0xCC: (">B", 1), 0xCD: (">H", 2), 0xCE: (">I", 4), 0xCF: (">Q", 8),
    0xD0: (">b", 1), 0xD1: (">h", 2), 0xD2: (">i", 4), 0xD3: (">q", 8),
}  # fmt: skip
# format byte -> (kind, struct format of the length field, its size)
_SIZED = {
    0xC4: ("bin", ">B", 1), 0xC5: ("bin", ">H", 2), 0xC6: ("bin", ">I", 4),
    0xC7: ("ext", ">B", 1), 0xC8: ("ext", ">H", 2), 0xC9: ("ext", ">I", 4),
    0xD9: ("str", ">B", 1), 0xDA: ("str", ">H", 2), 0xDB: ("str", ">I", 4),
    0xDC: ("array", ">H", 2), 0xDD: ("array", ">I", 4),
    0xDE: ("map", ">H", 2), 0xDF: ("map", ">I", 4),
}  # fmt: skip
_CONSTANTS = {0xC0: None, 0xC2: False, 0xC3: True}
_FIXEXT = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}


class _Reader:
    """A small msgpack decoder that sees format bytes (the C extension hides them)."""

    def __init__(self, buf: bytes, max_depth: int) -> None:
        self.buf = buf
        self.pos = 0
        self.max_depth = max_depth

    def document(self) -> Any:
        value = self.value(0)
        if self.pos != len(self.buf):
            raise InvalidPacket("invalid msgpack: trailing bytes")
        return value

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.buf):
            raise InvalidPacket("invalid msgpack: truncated message")
        chunk = self.buf[self.pos : end]
        self.pos = end
        return chunk

    def value(self, depth: int) -> Any:
        byte = self.take(1)[0]
        if byte <= 0x7F:
            return byte
        if byte >= 0xE0:
            return byte - 0x100
        if byte <= 0x8F:
            return self.map(byte & 0x0F, depth + 1)
        if byte <= 0x9F:
            return self.array(byte & 0x0F, depth + 1)
        if byte <= 0xBF:
            return self.take(byte & 0x1F).decode("utf-8", "replace")
        if byte in _CONSTANTS:
            return _CONSTANTS[byte]
        if byte in _FIXED:
            fmt, size = _FIXED[byte]
            return struct.unpack(fmt, self.take(size))[0]
        if byte in _FIXEXT:
            code = struct.unpack(">b", self.take(1))[0]
            return self.ext(code, self.take(_FIXEXT[byte]), fixed=True)
        if byte not in _SIZED:
            raise InvalidPacket(f"invalid msgpack: unknown format byte 0x{byte:02x}")
        kind, fmt, size = _SIZED[byte]
        length = struct.unpack(fmt, self.take(size))[0]
        if kind == "str":
            return self.take(length).decode("utf-8", "replace")
        if kind == "bin":
            return self.take(length)
        if kind == "array":
            return self.array(length, depth + 1)
        if kind == "map":
            return self.map(length, depth + 1)
        code = struct.unpack(">b", self.take(1))[0]
        return self.ext(code, self.take(length), fixed=False)

    def check_container(self, length: int, depth: int, per_item: int) -> None:
        if depth > self.max_depth + 1:  # the packet map itself is at level 1 here
            raise InvalidPacket(f"data nested deeper than {self.max_depth}")
        if length * per_item > len(self.buf) - self.pos:
            raise InvalidPacket("invalid msgpack: truncated message")

    def array(self, length: int, depth: int) -> list[Any]:
        self.check_container(length, depth, 1)
        items = [self.value(depth) for _ in range(length)]
        return [None if item is _UNDEFINED else item for item in items]

    def map(self, length: int, depth: int) -> dict[str, Any]:
        self.check_container(length, depth, 2)
        result: dict[str, Any] = {}
        undefined: set[str] = set()
        for _ in range(length):
            key = self.value(depth)
            if type(key) is not str:
                raise InvalidPacket("invalid msgpack: map keys must be strings")
            if key in result or key in undefined:
                raise InvalidPacket("invalid msgpack: duplicate map key")
            item = self.value(depth)
            if item is _UNDEFINED:  # as JSON.stringify: a member set to undefined is left out
                undefined.add(key)
            else:
                result[key] = item
        return result

    def ext(self, code: int, payload: bytes, *, fixed: bool) -> Any:
        if code == 0 and not fixed:
            return payload  # ArrayBuffer
        if code == 0 and len(payload) == 1:
            return _UNDEFINED
        if code == 0 and len(payload) == 8:
            high, low = struct.unpack(">iI", payload)
            return _js_date_json(high * 2**32 + low)
        raise InvalidPacket(f"unsupported msgpack extension type {code}")


def _js_date_json(millis: int) -> str | None:
    """What ``JSON.stringify(new Date(millis))`` gives: an ISO string, or null if invalid."""
    if abs(millis) > _MAX_DATE_MS:
        return None
    days, ms = divmod(millis, 86_400_000)
    # days -> proleptic Gregorian date (Howard Hinnant's civil_from_days)
    era, doe = divmod(days + 719_468, 146_097)
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    sign = "" if 0 <= year <= 9999 else ("+" if year > 0 else "-")
    year_text = f"{sign}{abs(year):0{6 if sign else 4}d}"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis_part = divmod(rest, 1000)
    return (
        f"{year_text}-{month:02d}-{day:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}"
        f".{millis_part:03d}Z"
    )
