"""The client's standard input and output: a line reader thread, the prompt, history, records.

`LineReader` reads stdin in a daemon thread, one line each time it is asked (with the prompt
and readline at a terminal); `terminal_writer` prints records above the prompt and draws it
again; `pipe_writer` writes one JSON line per record; `setup_history` and `terminal_mode`
keep the readline history and give the terminal back as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .commands import render_json, render_text

__all__ = [
    "PROMPT",
    "LineReader",
    "pipe_writer",
    "setup_history",
    "terminal_mode",
    "terminal_writer",
]

PROMPT = "siox> "
HISTORY_FILE = "~/.siox_history"


class LineReader:
    """Reads stdin in a daemon thread, one line each time `next` asks for one.

    (Not the loop's default executor: a thread blocked in ``input()`` at Ctrl-C would keep
    ``asyncio.run`` from returning.)
    """

    def __init__(self, prompt: str | None) -> None:
        self._prompt = prompt
        self._loop = asyncio.get_running_loop()
        self._want = threading.Semaphore(0)
        #: whether the prompt is shown and a line is being typed
        self.prompting = False
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._read, name="siox-client-stdin", daemon=True).start()

    def _read(self) -> None:
        while True:
            self._want.acquire()
            line: str | None
            self.prompting = self._prompt is not None
            try:
                line = (
                    (sys.stdin.readline() or None) if self._prompt is None else input(self._prompt)
                )
            except (EOFError, OSError, ValueError):
                line = None
            finally:
                self.prompting = False
            try:
                self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
            except RuntimeError:  # the loop is closed: the session is over
                return
            if line is None:
                return

    async def next(self) -> str | None:
        """The next line (None at the end of the input)."""
        self._want.release()
        return await self._lines.get()


def setup_history() -> Callable[[], None]:
    """Turn readline on with a history file; returns what saves it."""
    try:
        import readline
    except ImportError:  # not every platform has it
        return lambda: None
    path = Path(os.path.expanduser(HISTORY_FILE))
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(path)

    return save


def terminal_writer(reader: LineReader) -> Callable[[dict[str, Any]], None]:
    """Print records; above the prompt (drawn again with the typed text) while it shows."""
    try:
        import readline

        buffer: Callable[[], str] = readline.get_line_buffer
    except ImportError:
        buffer = str

    def write(record: dict[str, Any]) -> None:
        if reader.prompting:
            sys.stdout.write("\r\x1b[K" + render_text(record) + "\n" + PROMPT + buffer())
        else:
            sys.stdout.write(render_text(record) + "\n")
        sys.stdout.flush()

    return write


def pipe_writer(record: dict[str, Any]) -> None:
    """Write one record as a JSON line."""
    sys.stdout.write(render_json(record) + "\n")
    sys.stdout.flush()


def terminal_mode() -> Callable[[], None] | None:
    """What puts the terminal back as it is now (readline may be mid-line when we leave)."""
    try:
        import termios
    except ImportError:
        return None
    fd = sys.stdin.fileno()
    try:
        mode = termios.tcgetattr(fd)
    except termios.error:
        return None

    def restore() -> None:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSADRAIN, mode)

    return restore
