"""The server's name for the encode-once broadcast messages: `siox.core.outgoing`."""

from __future__ import annotations

from ..core.outgoing import Outgoing, build_frames

__all__ = ["Outgoing", "build_frames"]
