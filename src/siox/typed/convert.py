"""Validators built once from type annotations, and the encoder of return values (sans-I/O).

`validator(tp)` walks an annotation once and returns a function ``check(value, errors)``
that converts a decoded JSON value (dicts, lists, str, numbers, bool, None, bytes) into the
annotated type: a dict becomes a dataclass instance, a float field accepts an int, and so on.
A value that does not fit appends ``{"loc": [...], "message": "..."}`` to ``errors`` and
returns `INVALID`; at most `MAX_ERRORS` are collected. Supported: ``int``, ``float``, ``str``,
``bool``, ``bytes``, ``None``, ``Any``, ``list[T]``, ``set[T]``, ``tuple[T, ...]``,
``tuple[A, B]``, ``dict[str, T]``, ``Optional``/unions, ``Literal``, enums, dataclasses,
TypedDicts, and, when their library is installed, pydantic models and msgspec Structs.

Results go the other way through `siox.typed.encode`.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import libs
from .hints import strip, typeddict_required

__all__ = [
    "INVALID",
    "MAX_ERRORS",
    "Check",
    "Errors",
    "validator",
]

Errors = list[dict[str, Any]]
Check = Callable[[Any, Errors], Any]
#: The most problems reported for one event (input is untrusted: the report stays small).
MAX_ERRORS = 20


class _Invalid:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"


#: What a check returns for a value it refused (the reason is in ``errors``).
INVALID: Any = _Invalid()
_BARE: dict[Any, Callable[[list[Any]], Any]] = {
    list: list,
    tuple: tuple,
    set: set,
    frozenset: frozenset,
}


def _fail(errors: Errors, message: str, *loc: str | int) -> Any:
    if len(errors) < MAX_ERRORS:
        errors.append({"loc": list(loc), "message": message})
    return INVALID


def _nest(errors: Errors, start: int, key: str | int) -> None:
    """The problems from ``start`` on were found inside ``key``: prefix their location."""
    for error in errors[start:]:
        error["loc"].insert(0, key)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _passthrough(value: Any, errors: Errors) -> Any:
    return value


def _exact(kind: type, name: str) -> Check:
    def check(value: Any, errors: Errors) -> Any:
        if type(value) is kind:
            return value
        return _fail(errors, f"expected {name}, got {_kind(value)}")

    return check


def _int(value: Any, errors: Errors) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _fail(errors, f"expected an integer, got {_kind(value)}")


def _float(value: Any, errors: Errors) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return _fail(errors, f"expected a number, got {_kind(value)}")


def _bytes(value: Any, errors: Errors) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return _fail(errors, f"expected binary data, got {_kind(value)}")


def _none(value: Any, errors: Errors) -> Any:
    return None if value is None else _fail(errors, f"expected null, got {_kind(value)}")


_SIMPLE: dict[Any, Check] = {
    Any: _passthrough,
    object: _passthrough,
    int: _int,
    float: _float,
    str: _exact(str, "a string"),
    bool: _exact(bool, "a boolean"),
    bytes: _bytes,
    None: _none,
    type(None): _none,
}


def _sequence(item: Check, build: Callable[[list[Any]], Any]) -> Check:
    def check(value: Any, errors: Errors) -> Any:
        if type(value) is not list:
            return _fail(errors, f"expected an array, got {_kind(value)}")
        start = len(errors)
        out = [item(element, errors) for element in value]  # the fast path: all fit
        if INVALID not in out:
            return build(out)
        del errors[start:]  # again, one element at a time, to say where
        for index, element in enumerate(value):
            begin = len(errors)
            if item(element, errors) is INVALID:
                _nest(errors, begin, index)
                if len(errors) >= MAX_ERRORS:
                    break
        return INVALID

    return check


def _fixed_tuple(items: list[Check]) -> Check:
    def check(value: Any, errors: Errors) -> Any:
        if type(value) is not list or len(value) != len(items):
            return _fail(errors, f"expected an array of {len(items)} items")
        out = []
        for index, (item, element) in enumerate(zip(items, value, strict=True)):
            start = len(errors)
            out.append(item(element, errors))
            if out[-1] is INVALID:
                _nest(errors, start, index)
        return INVALID if any(v is INVALID for v in out) else tuple(out)

    return check


def _mapping(key: Check, item: Check) -> Check:
    def check(value: Any, errors: Errors) -> Any:
        if type(value) is not dict:
            return _fail(errors, f"expected an object, got {_kind(value)}")
        start = len(errors)
        out = {k: item(element, errors) for k, element in value.items()}  # the fast path
        if INVALID not in out.values() and all(type(k) is str for k in out):
            return out
        del errors[start:]  # again, one entry at a time, to say where
        for k, element in value.items():
            begin = len(errors)
            if key(k, errors) is INVALID or item(element, errors) is INVALID:
                _nest(errors, begin, k)
                if len(errors) >= MAX_ERRORS:
                    break
        return INVALID

    return check


def _union(options: list[Check], names: str) -> Check:
    def check(value: Any, errors: Errors) -> Any:
        for option in options:
            scratch: Errors = []
            converted = option(value, scratch)
            if converted is not INVALID:
                return converted
        return _fail(errors, f"expected {names}, got {_kind(value)}")

    return check


def _optional(inner: Check) -> Check:
    def check(value: Any, errors: Errors) -> Any:
        return None if value is None else inner(value, errors)

    return check


def _literal(allowed: tuple[Any, ...]) -> Check:
    pairs = {(type(v), v) for v in allowed}

    def check(value: Any, errors: Errors) -> Any:
        try:
            if (type(value), value) in pairs:
                return value
        except TypeError:  # unhashable
            pass
        return _fail(errors, f"expected one of {list(allowed)!r}")

    return check


def _enum(cls: type[enum.Enum]) -> Check:
    values = [member.value for member in cls]

    def check(value: Any, errors: Errors) -> Any:
        try:
            return cls(value)
        except (ValueError, TypeError):
            return _fail(errors, f"expected one of {values!r}")

    return check


def _fields(hints: Mapping[str, Any], cache: dict[Any, Check]) -> dict[str, Check]:
    return {name: _build(hint, cache) for name, hint in hints.items()}


def _record(
    cls: Any, checks: dict[str, Check], required: tuple[str, ...], make: Callable[..., Any]
) -> Check:
    name = cls.__name__
    fields = [(key, check, key in required) for key, check in checks.items()]

    def check(value: Any, errors: Errors) -> Any:
        if type(value) is not dict:
            return _fail(errors, f"expected an object ({name}), got {_kind(value)}")
        out = {}
        bad = False
        for key, field_check, needed in fields:
            if key in value:
                start = len(errors)
                converted = out[key] = field_check(value[key], errors)
                if converted is INVALID:
                    _nest(errors, start, key)
                    bad = True
            elif needed:
                bad = True
                _fail(errors, "missing", key)
        if bad:
            return INVALID
        try:
            return make(**out)
        except (TypeError, ValueError) as exc:  # __post_init__ refusing the value
            return _fail(errors, f"{name}: {exc}")

    return check


def _dataclass(cls: type, cache: dict[Any, Check]) -> Check:
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    required = tuple(
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )
    checks = _fields({f.name: hints.get(f.name, Any) for f in fields}, cache)
    return _record(cls, checks, required, cls)


def _typeddict(cls: Any, cache: dict[Any, Check]) -> Check:
    hints = typing.get_type_hints(cls, include_extras=True)
    required = typeddict_required(cls, hints)
    return _record(cls, _fields(hints, cache), required, dict)


def _pydantic(cls: Any) -> Check:
    error_type = libs.pydantic().ValidationError

    def check(value: Any, errors: Errors) -> Any:
        try:
            return cls.model_validate(value)
        except error_type as exc:
            for problem in exc.errors(include_url=False):
                _fail(errors, str(problem["msg"]), *problem["loc"])
            return INVALID

    return check


def _msgspec(cls: Any) -> Check:
    module = libs.msgspec()

    def check(value: Any, errors: Errors) -> Any:
        try:
            return module.convert(value, cls)
        except module.ValidationError as exc:
            return _fail(errors, str(exc))

    return check


def validator(tp: Any) -> Check:
    """The check of values annotated ``tp``, built once.

    Raises:
        TypeError: ``tp`` is not a type siox can validate (say so rather than let it pass).
    """
    return _build(tp, {})


def _build(tp: Any, cache: dict[Any, Check]) -> Check:
    tp = strip(tp)
    try:
        simple = _SIMPLE.get(tp)
        if simple is not None:
            return simple
        cached = cache.get(tp)
    except TypeError:  # an unhashable annotation
        cached = None
    if cached is not None:
        return cached
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _recursive(tp, cache, lambda: _dataclass(tp, cache))
    if typing.is_typeddict(tp):
        return _recursive(tp, cache, lambda: _typeddict(tp, cache))
    if libs.is_pydantic_model(tp):
        return _pydantic(tp)
    if libs.is_msgspec_struct(tp):
        return _msgspec(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum(tp)
    return _generic(tp, cache)


def _recursive(tp: Any, cache: dict[Any, Check], make: Callable[[], Check]) -> Check:
    cell: list[Check] = []

    def forward(value: Any, errors: Errors) -> Any:
        return cell[0](value, errors)

    cache[tp] = forward  # a self-referencing type finds this while it is being built
    cell.append(make())
    cache[tp] = cell[0]
    return cell[0]


def _generic(tp: Any, cache: dict[Any, Check]) -> Check:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return _literal(args)
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in args if a is not type(None)]
        if len(options) < len(args) and len(options) == 1:
            return _optional(_build(options[0], cache))
        names = " or ".join(getattr(a, "__name__", repr(a)) for a in args)
        return _union([_build(a, cache) for a in args], names)
    if tp is dict:
        return _mapping(_passthrough, _passthrough)
    if tp in _BARE:
        return _sequence(_passthrough, _BARE[tp])
    if origin in (list, Sequence):
        return _sequence(_build(args[0], cache), list)
    if origin in (set, frozenset):
        return _sequence(_build(args[0], cache), origin)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _sequence(_build(args[0], cache), tuple)
        return _fixed_tuple([_build(a, cache) for a in args])
    if origin in (dict, Mapping):
        key = _build(args[0], cache)
        if key not in (_passthrough, _SIMPLE[str]):
            raise TypeError(f"object keys are strings: {tp!r} cannot be validated")
        return _mapping(key, _build(args[1], cache))
    raise TypeError(f"siox.typed cannot validate values annotated {tp!r}")
