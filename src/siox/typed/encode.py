"""Encoding what typed handlers return (sans-I/O).

`encode(value)` turns a result into JSON-ready values (dataclass -> dict, enum -> its value,
pydantic model -> its JSON dump, msgspec Struct -> builtins); a top-level tuple stays a tuple
(a handler returning a tuple acks with several arguments). Binary values stay binary.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from . import libs

__all__ = ["encode"]

_SCALARS = frozenset({str, int, float, bool, type(None), bytes})


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses, models and enums become plain values.

    A top-level tuple stays a tuple (a handler returning a tuple acks with several arguments).
    """
    if type(value) is tuple:
        return tuple(_encode(v) for v in value)
    return _encode(value)


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k: _encode(v) for k, v in value.items()}
    if kind in (list, tuple, set, frozenset):
        return [_encode(v) for v in value]
    if isinstance(value, enum.Enum):
        return _encode(value.value)
    if dataclasses.is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if libs.is_pydantic_model(kind):
        return value.model_dump(mode="json")
    if libs.is_msgspec_struct(kind):
        return libs.msgspec().to_builtins(value)
    return value
