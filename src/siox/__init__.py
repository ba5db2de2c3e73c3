"""siox: Socket.IO for Python."""

from __future__ import annotations

from ._version import __version__
from .errors import (
    AckTimeout,
    ConnectionRefused,
    HandshakeError,
    InvalidPacket,
    NotConnected,
    PayloadTooLarge,
    ProtocolError,
    SioxError,
)

__all__ = [
    "AckTimeout",
    "ConnectionRefused",
    "HandshakeError",
    "InvalidPacket",
    "NotConnected",
    "PayloadTooLarge",
    "ProtocolError",
    "SioxError",
    "__version__",
]
