"""``siox client URL``: an interactive client, or a JSON-lines one on a pipe.

With a terminal on stdin it shows a prompt (with readline history, kept in
``~/.siox_history``) and prints events as they come; otherwise it reads one JSON command a
line and writes one JSON record a line (see `siox.cli.commands`). Commands run one at a time,
in order: an ``ack`` or ``wait`` holds the next command until it is answered or times out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from ..client.client import Client
from ..client.socket import ClientSocket
from ..errors import AckTimeout, NotConnected, SioxError
from .commands import (
    HELP,
    Command,
    CommandError,
    parse_json_command,
    parse_text_command,
)
from .terminal import PROMPT, LineReader, pipe_writer, setup_history, terminal_mode, terminal_writer

__all__ = ["ClientSession", "client_command"]

UNCLAIMED_EVENTS = 1000


def _reply_args(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, tuple) else [value]


class ClientSession:
    """One client, its current namespace socket, and how it prints.

    Args:
        client: the client (not connected yet).
        namespace: the namespace to join first.
        auth: the CONNECT payload for every namespace.
        timeout: the default seconds for connecting, acks and waits.
        write: prints one output record.
    """

    def __init__(
        self,
        client: Client,
        namespace: str,
        auth: dict[str, Any] | None,
        timeout: float,
        write: Callable[[dict[str, Any]], None],
    ) -> None:
        self.client = client
        self.auth = auth
        self.timeout = timeout
        self.listening = True
        self.write = write
        # events received and not yet taken by a ``wait`` (so that ``emit`` then ``wait``
        # sees a reply that came before the wait started), and what the wait is waiting for
        self._unclaimed: deque[tuple[str, Any, list[Any]]] = deque(maxlen=UNCLAIMED_EVENTS)
        self._arrived = asyncio.Event()
        self.socket = self._socket(namespace)

    def _socket(self, namespace: str) -> ClientSocket:
        socket = self.client.socket(namespace, auth=self.auth)
        nsp = socket.nsp

        def on_any(event: Any, *args: Any) -> None:
            self._unclaimed.append((nsp, event, list(args)))
            self._arrived.set()
            if self.listening:
                self.write({"type": "event", "namespace": nsp, "event": event, "args": list(args)})

        def on_connect() -> None:
            self.write(
                {
                    "type": "connect",
                    "namespace": nsp,
                    "id": socket.id,
                    "transport": self.client.transport,
                }
            )

        def on_disconnect(reason: str) -> None:
            self.write({"type": "disconnect", "namespace": nsp, "reason": reason})

        socket.on_any(on_any)
        socket.on("connect", on_connect)
        socket.on("disconnect", on_disconnect)
        return socket

    async def connect(self) -> None:
        """Join the first namespace (raises as `ClientSocket.connect` does)."""
        await self.socket.connect(timeout=self.timeout, retry=False)

    async def run(self, command: Command) -> bool:
        """Run one command, writing its records; False once the session should end."""
        try:
            return await self._run(command)
        except (CommandError, SioxError, TimeoutError, TypeError, ValueError) as exc:
            self.write({"type": "error", "message": str(exc) or type(exc).__name__})
            return True

    async def _run(self, command: Command) -> bool:
        kind = command.kind
        socket = self.socket
        if kind == "emit":
            await socket.emit(command.event, *command.args)
            self.write({"type": "emitted", "namespace": socket.nsp, "event": command.event})
        elif kind == "ack":
            timeout = self.timeout if command.timeout is None else command.timeout
            try:
                reply = await socket.emit_with_ack(command.event, *command.args, timeout=timeout)
            except AckTimeout:
                raise TimeoutError(f"no ack for {command.event!r} within {timeout:g} s") from None
            self.write({"type": "ack", "event": command.event, "args": _reply_args(reply)})
        elif kind == "wait":
            timeout = self.timeout if command.timeout is None else command.timeout
            args = await self.wait_for(command.event, timeout)
            self.write({"type": "waited", "event": command.event, "args": args})
        elif kind == "namespace":
            await self.switch(command.namespace)
        elif kind == "timeout":
            self.timeout = command.seconds
            self.write({"type": "timeout", "seconds": command.seconds})
        elif kind == "sleep":
            await asyncio.sleep(command.seconds)
        elif kind == "listen":
            self.listening = command.flag
            self.write({"type": "listen", "on": command.flag})
        elif kind == "status":
            self.write(self.status())
        elif kind == "help":
            self.write({"type": "help", "text": HELP})
        elif kind == "quit":
            return False
        return True

    async def wait_for(self, event: str, timeout: float) -> list[Any]:
        """The arguments of the oldest ``event`` of this namespace not waited for yet.

        Raises:
            TimeoutError: none came within ``timeout`` seconds.
        """
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for item in self._unclaimed:
                        if item[0] == self.socket.nsp and item[1] == event:
                            self._unclaimed.remove(item)
                            return item[2]
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            raise TimeoutError(f"no {event!r} event within {timeout:g} s") from None

    async def switch(self, namespace: str) -> None:
        """Leave the current namespace and join ``namespace``."""
        name = namespace if namespace.startswith("/") else "/" + namespace
        if name == self.socket.nsp and self.socket.connected:
            self.write(self.status())
            return
        old = self.socket
        self.socket = self._socket(name)
        if old.nsp != name:
            await old.disconnect()
        try:
            await self.socket.connect(timeout=self.timeout, retry=False)
        except (SioxError, TimeoutError):
            self.socket = old
            with contextlib.suppress(SioxError, TimeoutError):
                await old.connect(timeout=self.timeout, retry=False)
            raise

    def status(self) -> dict[str, Any]:
        """A status record."""
        return {
            "type": "status",
            "url": self.client.url,
            "namespace": self.socket.nsp,
            "connected": self.socket.connected,
            "id": self.socket.id,
            "transport": self.client.transport,
        }


async def _main(args: argparse.Namespace, interactive: bool) -> int:
    reader = LineReader(PROMPT if interactive else None)
    write = terminal_writer(reader) if interactive else pipe_writer
    auth: Any = None
    if args.auth is not None:
        try:
            auth = json.loads(args.auth)
        except ValueError as exc:
            print(f"siox client: --auth is not JSON: {exc}", file=sys.stderr)
            return 2
        if not isinstance(auth, dict):
            print("siox client: --auth must be a JSON object", file=sys.stderr)
            return 2
    transports = (args.transport,) if args.transport else ("polling", "websocket")
    try:
        client = Client(args.url, transports=transports, timeout=args.timeout, path=args.path)
    except (ValueError, TypeError) as exc:
        print(f"siox client: {exc}", file=sys.stderr)
        return 2
    namespace = args.namespace or client.endpoint.url_path or "/"
    session = ClientSession(client, namespace, auth, args.timeout, write)
    try:
        await session.connect()
    except (SioxError, TimeoutError, OSError) as exc:
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        print(f"siox client: cannot connect to {args.url}: {exc}{cause}", file=sys.stderr)
        await client.close()
        return 1
    save_history = setup_history() if interactive else (lambda: None)
    parse = parse_text_command if interactive else parse_json_command
    try:
        while True:
            line = await reader.next()
            if line is None:
                break
            if not line.strip():
                continue
            try:
                command = parse(line)
            except CommandError as exc:
                write({"type": "error", "message": str(exc)})
                continue
            if command is not None and not await session.run(command):
                break
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C
        reader.prompting = False  # no prompt to draw again under the last records
        if interactive:
            sys.stdout.write("\n")
        status = 130
    else:
        status = 0
    finally:
        save_history()
        with contextlib.suppress(NotConnected):
            await client.close()
        if interactive:
            sys.stdout.write("\n")
    return status


def client_command(args: argparse.Namespace) -> int:
    """``siox client``: returns the exit status."""
    interactive = sys.stdin.isatty()
    saved = terminal_mode() if interactive else None
    try:
        return asyncio.run(_main(args, interactive))
    except KeyboardInterrupt:
        return 130
    finally:
        if saved is not None:
            saved()
