"""Apply a WebSocket masking key to a payload (RFC 6455 section 5.3), in pure Python.

The payload and the repeated four-byte key are read as two big integers and XOR-ed in one
operation: linear in the payload size, with no per-byte Python loop.
``tests/http/mask_benchmark.py`` measures it.
"""

from __future__ import annotations

import os

__all__ = [
    "apply_mask",
    "mask_join",
    "pure_apply_mask",
    "pure_mask_join",
    "pure_unmask",
    "pure_unmask_text",
    "unmask",
    "unmask_text",
]


def pure_apply_mask(data: bytes | bytearray | memoryview, key: bytes) -> bytes:
    """XOR ``data`` with the four-byte ``key`` repeated; masking and unmasking are the same.

    Args:
        data: The payload.
        key: The four-byte masking key.

    Returns:
        The masked (or unmasked) payload as new bytes.
    """
    size = len(data)
    if size == 0:
        return b""
    repeated = key * (size // 4 + 1)
    masked = int.from_bytes(data, "little") ^ int.from_bytes(repeated[:size], "little")
    return masked.to_bytes(size, "little")


def pure_mask_join(parts: list[bytes | memoryview], key: bytes) -> bytes:
    """`pure_apply_mask` of the parts joined: one payload that arrived in several reads.

    Args:
        parts: The payload's pieces, in order.
        key: The four-byte masking key (applied from the first byte of the first part).

    Returns:
        The unmasked payload as new bytes (the compiled version writes it in one pass).
    """
    return pure_apply_mask(b"".join(parts), key)


def pure_unmask(data: bytes, start: int, end: int) -> bytes:
    """The payload ``data[start:end]`` of a masked frame in a read, unmasked.

    Its masking key is the four bytes before it (``data[start - 4:start]``); the compiled
    version reads both in place, without slicing.

    Raises:
        ValueError: no such payload (``start < 4``, ``end < start`` or past the data).
    """
    if start < 4 or end < start or end > len(data):
        raise ValueError(f"unmask(): no masked payload at [{start}:{end}]")
    return pure_apply_mask(data[start:end], data[start - 4 : start])


def pure_unmask_text(data: bytes, start: int, end: int) -> str:
    """`pure_unmask` decoded as UTF-8 text (strict: `UnicodeDecodeError` as `bytes.decode`)."""
    if start < 4 or end < start or end > len(data):  # (`pure_unmask`, inline: one call less)
        raise ValueError(f"unmask_text(): no masked payload at [{start}:{end}]")
    return pure_apply_mask(data[start:end], data[start - 4 : start]).decode("utf-8")


apply_mask = pure_apply_mask
mask_join = pure_mask_join
unmask = pure_unmask
unmask_text = pure_unmask_text
if not os.environ.get("SIOX_NO_EXTENSIONS"):
    try:
        # the compiled versions, when they were built
        from ._speedups import apply_mask, mask_join, unmask, unmask_text
    except ImportError:
        pass
