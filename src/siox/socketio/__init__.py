"""The Socket.IO session layer: packets of one Engine.IO connection, sans-I/O."""

from __future__ import annotations
