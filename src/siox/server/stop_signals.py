"""Hear SIGTERM / SIGINT next to the ASGI server that owns them, without taking them away.

An ASGI server that is told to stop closes its listening sockets, then waits for the requests
in flight before it sends ``lifespan.shutdown``; it tells the application nothing in between.
A long-polling GET is a request in flight that only ends at the next ping (25 s by default),
so the server's drain waits for it, and when its graceful-shutdown timeout cancels the request
the client gets an EOF instead of the Engine.IO close packet.

`StopSignals` chains a handler in front of the one the ASGI server installed (uvicorn and
hypercorn both install one while they serve): the server's handler still runs, unchanged, and
siox is told on the event loop, so it can close its sessions (answering every pending poll
with the close packet) while the server drains. Nothing is installed when the current handler
is not a Python callable put there by someone else (the process would not stop on that signal
anyway, or it is not the main thread).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["STOP_SIGNALS", "StopSignals"]

logger = logging.getLogger("siox")

#: The signals an ASGI server stops on.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)

_Handler = Callable[[int, FrameType | None], Any]


class StopSignals:
    """Chain ``on_stop`` (run on the event loop) in front of the server's signal handlers."""

    __slots__ = ("_chained", "_on_stop")

    def __init__(self, on_stop: Callable[[], None]) -> None:
        self._on_stop = on_stop
        self._chained: dict[signal.Signals, tuple[_Handler, _Handler]] = {}

    @property
    def installed(self) -> bool:
        """Whether at least one signal is chained."""
        return bool(self._chained)

    def install(self) -> None:
        """Chain the handlers (main thread only; a no-op elsewhere or when already done)."""
        if self._chained or threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            previous = signal.getsignal(sig)
            if not callable(previous) or previous is signal.default_int_handler:
                continue  # nobody serving is listening for it: leave it alone
            ours = self._handler(loop, previous)
            try:
                signal.signal(sig, ours)
            except (ValueError, OSError):  # pragma: no cover - not the main interpreter
                continue
            self._chained[sig] = (ours, previous)

    def _handler(self, loop: asyncio.AbstractEventLoop, previous: _Handler) -> _Handler:
        on_stop = self._on_stop

        def handler(signum: int, frame: FrameType | None) -> None:
            try:
                loop.call_soon_threadsafe(on_stop)
            except RuntimeError:  # the loop is closed: only the server's handler matters
                pass
            previous(signum, frame)

        return handler

    def uninstall(self) -> None:
        """Put the server's handlers back (those replaced since by someone else stay)."""
        chained, self._chained = self._chained, {}
        for sig, (ours, previous) in chained.items():
            if signal.getsignal(sig) is ours:
                signal.signal(sig, previous)
