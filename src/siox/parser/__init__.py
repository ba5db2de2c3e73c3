"""Socket.IO packet parser (placeholder until the codec lands)."""

from __future__ import annotations

from .packet import Packet, PacketType

__all__ = ["Packet", "PacketType"]
