"""Fixtures for the siox.http tests: in-memory WebSocket peers and a raw frame builder.

They are session-scoped factories (pure functions), so hypothesis tests may use them too.
(No helper module: tests/ is on sys.path and a tests/http package would shadow the stdlib's
``http``.)
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest

from siox.http._mask import apply_mask
from siox.http.deflate import DeflateParams
from siox.http.websocket import Role, WebSocketConnection

MASK_KEY = b"\x37\xfa\x21\x3d"

Pair = tuple[WebSocketConnection, WebSocketConnection]


def build_raw_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = MASK_KEY,
    length: int | None = None,
) -> bytes:
    """A frame built by hand, so that tests can break any rule (rsv: 0-7 = RSV3..RSV1 bits)."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    size = len(payload) if length is None else length
    mask_bit = 0x80 if mask is not None else 0
    if size < 126:
        header = bytes([first, mask_bit | size])
    elif size < 65536:
        header = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, size)
    if mask is None:
        return header + payload
    if len(payload) < 4096:  # an independent reference for small payloads
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    else:  # test_ws_mask.py checks apply_mask against that reference
        masked = apply_mask(payload, mask)
    return header + mask + masked


def build_pair(deflate: DeflateParams | None = None, **options: Any) -> Pair:
    """A (server, client) pair sharing the same agreed parameters and options."""
    return (
        WebSocketConnection(Role.SERVER, deflate=deflate, **options),
        WebSocketConnection(Role.CLIENT, deflate=deflate, **options),
    )


@pytest.fixture(scope="session")
def raw_frame() -> Callable[..., bytes]:
    return build_raw_frame


@pytest.fixture(scope="session")
def ws_pair() -> Callable[..., Pair]:
    return build_pair
