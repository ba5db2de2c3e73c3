"""The server side of the Socket.IO Admin UI (npm ``@socket.io/admin-ui`` 0.5).

``sio.instrument(auth=..., ...)`` (or `instrument`) adds the admin namespace; see
`siox.admin.instrument.instrument` for the options and docs/admin-ui.md for the guide.
"""

from __future__ import annotations

from .instrument import AdminUI, instrument
from .stores import InMemoryStore, RedisStore, SessionStore

__all__ = ["AdminUI", "InMemoryStore", "RedisStore", "SessionStore", "instrument"]
