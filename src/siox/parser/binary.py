"""Binary attachments: placeholders out (deconstruct) and back in (reconstruct).

A binary EVENT/ACK travels as a text header whose JSON holds ``{"_placeholder":true,"num":N}``
where each binary value was, followed by the N attachments in order. Placeholders are numbered
depth-first, left to right (arrays by index, objects by key order), as socket.io-parser does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InvalidPacket
from .packet import COMPILED

__all__ = ["BINARY_TYPES", "deconstruct", "has_binary", "pure_reconstruct", "reconstruct"]

#: The Python types that count as binary data.
BINARY_TYPES = (bytes, bytearray, memoryview)


def has_binary(data: Any) -> bool:
    """Whether ``data`` holds a binary value anywhere inside lists, tuples and dicts."""
    if isinstance(data, BINARY_TYPES):
        return True
    if isinstance(data, (list, tuple)):
        return any(has_binary(item) for item in data)
    if isinstance(data, dict):
        return any(has_binary(item) for item in data.values())
    return False


def deconstruct(data: Any, attachments: list[bytes]) -> Any:
    """A copy of ``data`` with every binary value replaced by a numbered placeholder.

    The binary values are appended to ``attachments`` (as ``bytes``) in placeholder order.
    Containers are copied only along the way to a binary value.
    """
    if isinstance(data, BINARY_TYPES):
        placeholder = {"_placeholder": True, "num": len(attachments)}
        attachments.append(data if type(data) is bytes else bytes(data))
        return placeholder
    if isinstance(data, (list, tuple)):
        return [deconstruct(item, attachments) for item in data]
    if isinstance(data, dict):
        return {key: deconstruct(value, attachments) for key, value in data.items()}
    return data


def pure_reconstruct(data: Any, attachments: list[bytes]) -> Any:
    """Put the attachments back where the placeholders are (in place for containers).

    The pure-Python `reconstruct`: the reference of the compiled one, and its fallback.

    Raises:
        InvalidPacket: a placeholder whose ``num`` is not an integer index of ``attachments``
            (``bool`` and ``float`` are refused: Python's ``True`` and ``-1`` are no indexes).
    """
    if isinstance(data, list):
        for index, item in enumerate(data):
            if isinstance(item, (list, dict)):
                data[index] = pure_reconstruct(item, attachments)
        return data
    if isinstance(data, dict):
        if data.get("_placeholder") is True:
            num = data.get("num")
            if type(num) is not int or not 0 <= num < len(attachments):
                raise InvalidPacket("illegal attachments: bad placeholder index")
            return attachments[num]
        for key, value in data.items():
            if isinstance(value, (list, dict)):
                data[key] = pure_reconstruct(value, attachments)
        return data
    return data


#: `pure_reconstruct`, compiled when the optional speedups are built (`siox.parser._speedups`;
#: it walks the exact lists and dicts a JSON decoder builds and hands any other container to
#: `pure_reconstruct`); `siox.parser.default` configures it.
reconstruct: Callable[[Any, list[bytes]], Any] = pure_reconstruct
if COMPILED is not None:
    reconstruct = COMPILED.reconstruct
