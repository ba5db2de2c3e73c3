r"""JSON backends: orjson when installed, the standard library otherwise, with identical results.

A backend is an object with ``dumps(obj) -> str`` and ``loads(text) -> Any``; it is passed to the
codecs that need one and stored on the instance (there is no process-wide switch). Both backends
give the same answer for every input, which the test suite checks:

* ``loads`` accepts exactly RFC 8259 JSON: no ``NaN``/``Infinity`` literals; a number that
  overflows to infinity is refused; integers in the 64-bit range ``[-2**63, 2**64 - 1]`` come out
  as exact ``int`` and larger ones as ``float`` (as a JavaScript peer would read them); lone
  surrogate escapes (``"\\ud800"``) are accepted, as ``JSON.parse`` accepts them.
* ``loads`` enforces a nesting-depth limit (``max_depth``, default 32).
* ``dumps`` writes compact JSON with raw UTF-8 (no ``\\u`` escapes but for control characters and
  lone surrogates, like ``JSON.stringify``); NaN and infinities become ``null`` as in JavaScript;
  ``Enum`` members are written as their value and ``UUID`` as its string. Anything else that is
  not JSON data (sets, datetimes, dataclasses, arbitrary objects) raises ``TypeError``.

Errors in ``loads`` raise `siox.errors.InvalidPacket`.
"""

from __future__ import annotations

import enum
import json
import math
import re
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from .errors import InvalidPacket
from .options import DEFAULT_LIMITS

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "JsonBackend",
    "OrjsonBackend",
    "StdlibBackend",
    "default_backend",
    "get_backend",
]

DEFAULT_MAX_DEPTH = DEFAULT_LIMITS.max_depth

_U64_MAX = 2**64 - 1
_I64_MIN = -(2**63)
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonBackend(Protocol):
    """What the codecs need from a JSON implementation."""

    name: str
    max_depth: int

    def dumps(self, obj: Any) -> str:
        """Compact JSON text of ``obj``; ``TypeError`` for values that are not JSON data."""
        ...

    def loads(self, text: str | bytes) -> Any:
        """Decode one JSON document; `InvalidPacket` when it is not valid or too deep."""
        ...

    def dumps_with_binary(self, obj: Any) -> tuple[str, list[bytes]]:
        """Like ``dumps``, with binary values replaced by attachment placeholders.

        Each binary value becomes ``{"_placeholder":true,"num":N}`` (numbered depth-first) and
        is returned, in order, as the second item.
        """
        ...


def _default(obj: Any) -> Any:
    """Serialize the few non-JSON types both backends agree on."""
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, uuid.UUID):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


class _Attachments(list[bytes]):
    """The binary values of one `OrjsonBackend.dumps_with_binary` call, in placeholder order.

    Its ``add`` is orjson's ``default`` hook for that call: a binary value is recorded and
    written as its placeholder, anything else goes to `_default`.
    """

    __slots__ = ()

    def add(self, value: Any) -> Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            self.append(value if type(value) is bytes else bytes(value))
            return {"_placeholder": True, "num": len(self) - 1}
        return _default(value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON literal {name}")


def _parse_int(text: str) -> int | float:
    if len(text) <= 20:
        value = int(text)
        if _I64_MIN <= value <= _U64_MAX:
            return value
    return _parse_float(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether the container nesting of ``value`` is deeper than ``limit`` (iterative)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _check_depth(text: str | bytes, value: Any, limit: int) -> Any:
    # Cheap bounds first: a document of n characters nests at most n // 2 deep, and never
    # deeper than its number of opening brackets.
    if len(text) <= 2 * limit:
        return value
    if _brackets_over(text, limit) and _depth_exceeds(value, limit):
        raise InvalidPacket(f"JSON nesting deeper than {limit}")
    return value


def _brackets_over(text: str | bytes, limit: int) -> bool:
    """Whether ``text`` holds more than ``limit`` opening brackets (``[`` and ``{``).

    Found one by one with ``find`` (memchr: a long string is skipped at memory speed, where
    ``count`` compares each character), stopping at ``limit + 1``.
    """
    seen = 0
    brackets: tuple[Any, Any] = ("[", "{") if isinstance(text, str) else (b"[", b"{")
    for bracket in brackets:
        at = text.find(bracket)
        while at >= 0:
            seen += 1
            if seen > limit:
                return True
            at = text.find(bracket, at + 1)
    return False


def _replace_non_finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _replace_non_finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace_non_finite(v) for v in value]
    return value


class StdlibBackend:
    """JSON through the standard library's ``json`` module."""

    name = "stdlib"

    def __init__(self, *, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        if max_depth < 1:
            raise ValueError("max_depth must be >= 1")
        self.max_depth = max_depth
        self._decoder = json.JSONDecoder(
            parse_int=_parse_int, parse_float=_parse_float, parse_constant=_reject_constant
        )
        self._encoder = json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_default
        )

    def dumps(self, obj: Any) -> str:
        """Compact JSON text of ``obj``."""
        try:
            text = self._encoder.encode(obj)
        except ValueError:  # NaN or infinity somewhere: JavaScript writes null
            text = self._encoder.encode(_replace_non_finite(obj))
        except RecursionError:
            raise TypeError("value nested too deeply to serialize") from None
        if not text.isascii():
            text = _SURROGATE.sub(_escape_surrogate, text)
        return text

    def dumps_with_binary(self, obj: Any) -> tuple[str, list[bytes]]:
        """Compact JSON of ``obj`` with binary values replaced by attachment placeholders."""
        return _dumps_with_binary(self, obj)

    def loads(self, text: str | bytes) -> Any:
        """Decode one JSON document."""
        try:
            if isinstance(text, (bytes, bytearray, memoryview)):
                text = bytes(text).decode("utf-8")
            value = self._decoder.decode(text)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            raise InvalidPacket(f"invalid JSON: {exc}") from None
        return _check_depth(text, value, self.max_depth)


def _dumps_with_binary(backend: JsonBackend, obj: Any) -> tuple[str, list[bytes]]:
    """Generic `dumps_with_binary`: plain ``dumps`` first, placeholders only when it fails."""
    from .parser.binary import deconstruct  # the parser package imports this module

    try:
        return backend.dumps(obj), []
    except TypeError:
        attachments: list[bytes] = []
        stripped = deconstruct(obj, attachments)
        if not attachments:
            raise
        return backend.dumps(stripped), attachments


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


class OrjsonBackend:
    """JSON through orjson, falling back to the standard library where orjson declines.

    orjson refuses a few valid inputs (integers beyond 64 bits when writing, lone surrogates,
    non-string keys); those go through `StdlibBackend`, so the results never differ.
    """

    name = "orjson"

    def __init__(self, *, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        import orjson  # the one place orjson is imported

        self.max_depth = max_depth
        self._fallback = StdlibBackend(max_depth=max_depth)
        self._orjson_dumps = orjson.dumps
        self._orjson_loads = orjson.loads
        self._option = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME

    def dumps(self, obj: Any) -> str:
        """Compact JSON text of ``obj``."""
        try:
            return self._orjson_dumps(obj, _default, self._option).decode()
        except TypeError:
            return self._fallback.dumps(obj)

    def dumps_bytes(self, obj: Any) -> bytes:
        """Compact JSON of ``obj`` as UTF-8 bytes (the I/O layer's fast path)."""
        try:
            return self._orjson_dumps(obj, _default, self._option)
        except TypeError:
            return self._fallback.dumps(obj).encode("utf-8", "surrogatepass")

    def dumps_with_binary(self, obj: Any) -> tuple[str, list[bytes]]:
        """Compact JSON of ``obj`` with binary values replaced by attachment placeholders.

        One orjson call, binary or not: its ``default`` hook is called for each binary value
        in serialization order (depth-first, left to right), records it and writes the
        placeholder (no second pass, no exception to raise and catch).
        """
        attachments = _Attachments()
        try:
            return self._orjson_dumps(obj, attachments.add, self._option).decode(), attachments
        except TypeError:
            return _dumps_with_binary(self._fallback, obj)

    def loads(self, text: str | bytes) -> Any:
        """Decode one JSON document."""
        try:
            value = self._orjson_loads(text)
        except ValueError:  # orjson.JSONDecodeError; let the stdlib decide (and explain)
            return self._fallback.loads(text)
        if len(text) <= 2 * self.max_depth:  # `_check_depth`'s first bound, without a call
            return value
        return _check_depth(text, value, self.max_depth)


def get_backend(
    spec: str | JsonBackend | None = None, *, max_depth: int | None = None
) -> JsonBackend:
    """Resolve a backend specification.

    Args:
        spec: ``None`` or ``"auto"`` (orjson when installed, else the standard library),
            ``"orjson"``, ``"stdlib"``, or a backend object (returned as is).
        max_depth: nesting limit for decoding; the default is `DEFAULT_MAX_DEPTH`.

    Raises:
        ImportError: ``"orjson"`` was asked for and is not installed (``pip install siox[fast]``).
        ValueError: an unknown name.
    """
    if spec is not None and not isinstance(spec, str):
        return spec
    depth = DEFAULT_MAX_DEPTH if max_depth is None else max_depth
    if spec in (None, "auto"):
        try:
            return OrjsonBackend(max_depth=depth)
        except ImportError:
            return StdlibBackend(max_depth=depth)
    if spec == "orjson":
        return OrjsonBackend(max_depth=depth)
    if spec == "stdlib":
        return StdlibBackend(max_depth=depth)
    raise ValueError(f"unknown JSON backend {spec!r} (use 'auto', 'orjson' or 'stdlib')")


_DEFAULT: JsonBackend | None = None


def default_backend() -> JsonBackend:
    """The backend used when none is given: orjson if installed, else the standard library.

    The object is created once and never changes afterwards, so sharing it is safe.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = get_backend()
    return _DEFAULT
