"""The asyncio server: Engine.IO driver, Socket.IO server, native front end."""

from __future__ import annotations
