"""Apply a WebSocket masking key to a payload (RFC 6455 section 5.3), in pure Python.

The payload and the repeated four-byte key are read as two big integers and XOR-ed in one
operation: linear in the payload size, with no per-byte Python loop.
``tests/http/mask_benchmark.py`` measures it.
"""

from __future__ import annotations

import os

__all__ = ["apply_mask", "pure_apply_mask"]


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


apply_mask = pure_apply_mask
if not os.environ.get("SIOX_NO_EXTENSIONS"):
    try:
        from ._speedups import apply_mask  # the compiled version, when it was built
    except ImportError:
        pass
