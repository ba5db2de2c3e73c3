"""The ASGI app the stop-signal tests run under a real uvicorn / hypercorn process."""

from __future__ import annotations

import os

import siox

sio = siox.Server(ping_interval=25.0, ping_timeout=20.0)
app = siox.ASGIApp(sio, shutdown_on_signal=os.environ.get("SIOX_TEST_ON_SIGNAL", "1") == "1")
