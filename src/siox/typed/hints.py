"""Reading type hints: wrappers to see through, and which TypedDict keys are required."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

__all__ = ["strip", "typeddict_required"]

_WRAPPERS = (typing.Annotated, typing.NotRequired, typing.Required)


def strip(tp: Any) -> Any:
    """``tp`` without ``Annotated``, ``(Not)Required`` and ``NewType`` wrappers."""
    while True:
        if typing.get_origin(tp) in _WRAPPERS:
            tp = typing.get_args(tp)[0]
        elif hasattr(tp, "__supertype__"):
            tp = tp.__supertype__
        elif type(tp).__name__ == "TypeAliasType":  # `type X = ...` (Python 3.12+)
            tp = tp.__value__
        else:
            return tp


def typeddict_required(cls: Any, hints: Mapping[str, Any]) -> tuple[str, ...]:
    """The required keys of a TypedDict, in order.

    ``NotRequired`` is read from the hints too: ``__required_keys__`` misses it in string
    annotations before Python 3.12.
    """
    required = []
    for name, hint in hints.items():
        origin = typing.get_origin(typing.get_args(hint)[0] if _annotated(hint) else hint)
        if origin is typing.NotRequired:
            continue
        if origin is typing.Required or name in cls.__required_keys__:
            required.append(name)
    return tuple(required)


def _annotated(hint: Any) -> bool:
    return typing.get_origin(hint) is typing.Annotated
