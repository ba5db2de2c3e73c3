"""The local pub/sub hub: the workers' cluster bus, run by the supervisor (no asyncio).

It behaves as much of Redis publish/subscribe as `siox.adapters.cluster.ClusterAdapter` uses:
glob patterns and exact channels, a delivery per matching subscription (the publisher's own
included, as Redis does), and ``NUMSUB`` counting the links subscribed to a channel. The
supervisor drives it from its `selectors` loop, so it needs no thread and keeps the supervisor
safe to fork from.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
from fnmatch import fnmatchcase

from .frames import COUNT, MSG, NUMSUB, PUB, SUB, UNSUB, FrameError, encode, split

__all__ = ["Hub"]

logger = logging.getLogger("siox.workers")

#: outgoing bytes queued for one worker before it is dropped as stuck (Redis has 32 MB for
#: pub/sub clients)
MAX_OUTPUT = 64 * 1024 * 1024


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbuf = bytearray()
        self.out = bytearray()
        self.patterns: set[str] = set()
        self.channels: set[str] = set()


class Hub:
    """Publish/subscribe between the workers, over a Unix socket at ``path``.

    Args:
        path: where to listen.
        selector: the supervisor's selector (the hub registers its sockets there).
    """

    def __init__(self, path: str, selector: selectors.BaseSelector) -> None:
        self.selector = selector
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.clients: dict[socket.socket, _Client] = {}
        selector.register(self.listener, selectors.EVENT_READ, self._accept)

    def fds(self) -> list[int]:
        """Every descriptor the hub holds (a forked worker closes them)."""
        return [self.listener.fileno(), *(sock.fileno() for sock in self.clients)]

    def _accept(self, mask: int) -> None:
        try:
            sock, _ = self.listener.accept()
        except OSError:
            return
        sock.setblocking(False)
        client = self.clients[sock] = _Client(sock)
        self.selector.register(sock, selectors.EVENT_READ, lambda m: self._ready(client, m))

    def _ready(self, client: _Client, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._flush(client)
        if mask & selectors.EVENT_READ and client.sock in self.clients:
            try:
                data = client.sock.recv(262144)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._drop(client)
                return
            client.inbuf += data
            try:
                for op, items in split(client.inbuf):
                    self._handle(client, op, items)
            except (FrameError, IndexError, UnicodeDecodeError) as exc:
                logger.warning("siox workers: hub dropped a link sending a bad frame: %s", exc)
                self._drop(client)

    def _handle(self, client: _Client, op: int, items: list[bytes]) -> None:
        if op in (SUB, UNSUB):
            pattern, channels = items[0].decode(), {item.decode() for item in items[1:]}
            if op == SUB:
                client.patterns.add(pattern)
                client.channels |= channels
            else:
                client.patterns.discard(pattern)
                client.channels -= channels
        elif op == PUB:
            self.publish(items[0].decode(), items[1])
        elif op == NUMSUB:
            channel = items[1].decode()
            count = sum(channel in other.channels for other in self.clients.values())
            self._send(client, encode(COUNT, items[0], str(count).encode()))
        else:
            raise FrameError(f"unknown operation {op}")

    def publish(self, channel: str, message: bytes) -> None:
        """Deliver ``message`` to every subscription matching ``channel``."""
        name = channel.encode()
        for client in list(self.clients.values()):
            for pattern in client.patterns:
                if fnmatchcase(channel, pattern):
                    self._send(client, encode(MSG, b"p" + pattern.encode(), name, message))
            if channel in client.channels:
                self._send(client, encode(MSG, b"c" + name, name, message))

    def _send(self, client: _Client, frame: bytes) -> None:
        if len(client.out) + len(frame) > MAX_OUTPUT:
            logger.error("siox workers: a worker reads its cluster messages too slowly; dropped")
            self._drop(client)
            return
        waiting = bool(client.out)
        client.out += frame
        if not waiting:
            self._flush(client)

    def _flush(self, client: _Client) -> None:
        if client.sock not in self.clients:
            return
        try:
            sent = client.sock.send(client.out) if client.out else 0
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop(client)
            return
        del client.out[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.out else 0)
        self.selector.modify(client.sock, events, lambda m: self._ready(client, m))

    def _drop(self, client: _Client) -> None:
        if self.clients.pop(client.sock, None) is None:
            return
        self.selector.unregister(client.sock)
        client.sock.close()

    def close(self, path: str) -> None:
        """Close every link and the listener."""
        for client in list(self.clients.values()):
            self._drop(client)
        self.selector.unregister(self.listener)
        self.listener.close()
        try:
            os.unlink(path)
        except OSError:
            pass
