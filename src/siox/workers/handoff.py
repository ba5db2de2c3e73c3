"""Handing a client connection to the worker that owns its session (file descriptor passing).

When a request head names a session of another worker (`siox.workers.ids`), the worker that
accepted the connection stops reading it, sends a duplicate of its file descriptor over a Unix
socket (``SCM_RIGHTS``) to the owner, together with the bytes it had already read from the start
of that request, and forgets the connection. The owner adopts the descriptor as if it had
accepted it and replays those bytes first; the client sees one ordinary HTTP connection.

On the links between workers a handoff is one frame: a 4-byte big-endian length sent with the
descriptor attached, then that many bytes. Descriptors are owned by exactly one place at any
time (the sender's queue, the kernel, the receiver's queue, then a transport), and every path
that gives up on a frame closes its descriptor: a connection that dies half-way leaks nothing.
"""

from __future__ import annotations

import array
import asyncio
import logging
import os
import socket
import struct
from collections import deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

from ..http.http11 import Request
from ..server.engine_server import EngineServer
from .forward import EngineBridge, Forwarding, channel_of, take_over
from .ids import node_of, owner_of
from .stats import WorkerStats

__all__ = ["HandoffInbox", "HandoffRouter", "link_path"]

logger = logging.getLogger("siox.workers")

_HEADER = struct.Struct("!I")
_MAX_FRAME = 4 * 1024 * 1024  # a head (16 KiB) and what one read brought with it, with room
_MAX_FDS = 16
_MAX_QUEUED = 512  # frames (two per handoff) waiting for a worker that does not read
_RIGHTS = (socket.SOL_SOCKET, socket.SCM_RIGHTS)

#: ``adopt(sock, preface)``: serve an accepted TCP socket whose first bytes were ``preface``.
Adopt = Callable[[socket.socket, bytes], None]


def link_path(rundir: str | Path, index: int) -> str:
    """Where worker ``index`` receives connections."""
    return str(Path(rundir) / f"{index}.sock")


def _sid(query: str) -> str | None:
    if "sid=" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "sid":
            return value
    return None


def _close(fd: int | None) -> None:
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass


class _Link:
    """This worker's sending end towards one other worker: frames queued, written when it can."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
        self.loop = loop
        self.sock = sock
        self.out: deque[tuple[bytes, int | None]] = deque()
        self.writing = False
        self.broken = False

    def send(self, fd: int, raw: bytes) -> bool:
        """Queue one handoff (``fd`` now belongs to the link); False: the link is broken."""
        nothing_sent = not self.out
        self.out.append((_HEADER.pack(len(raw)), fd))
        if raw:
            self.out.append((raw, None))
        self._flush()
        return not (self.broken and nothing_sent)  # broken at once: the caller still has it

    def _flush(self) -> None:
        out = self.out
        while out:
            data, fd = out[0]
            try:
                if fd is not None:
                    sent = self.sock.sendmsg([data], [(*_RIGHTS, array.array("i", [fd]))])
                else:
                    sent = self.sock.send(data)
            except BlockingIOError:
                self._want_write(True)
                return
            except OSError as exc:
                logger.warning("siox workers: a handoff link failed: %r", exc)
                self.close()
                return
            if fd is not None:
                _close(fd)  # the kernel holds it in flight now
            if sent < len(data):
                out[0] = (data[sent:], None)
                self._want_write(True)
                return
            out.popleft()
        self._want_write(False)

    def _want_write(self, want: bool) -> None:
        if want and not self.writing:
            self.loop.add_writer(self.sock.fileno(), self._flush)
        elif not want and self.writing:
            self.loop.remove_writer(self.sock.fileno())
        self.writing = want

    def close(self) -> None:
        """Drop the link and every queued descriptor (their clients see the connection close)."""
        if self.broken:
            return
        self.broken = True
        self._want_write(False)
        while self.out:
            _close(self.out.popleft()[1])
        self.sock.close()


class HandoffRouter:
    """The `siox.server.http_types.Router` of one worker: sends others' sessions' connections on.

    Args:
        engine: this worker's engine (which path is the endpoint).
        stats: this worker's counters (``index`` and ``count`` say who owns what).
        rundir: the directory of the workers' link sockets.
    """

    def __init__(self, engine: EngineServer, stats: WorkerStats, rundir: str | Path) -> None:
        self.engine = engine
        self.stats = stats
        self.rundir = rundir
        self.links: dict[int, _Link] = {}
        #: with nodes (several machines): this node's id, the bridge, the cluster's key
        self.node = ""
        self.bridge: EngineBridge | None = None
        self.key = ""

    def route(self, transport: asyncio.Transport, request: Request, raw: bytes) -> bool:
        """Hand the connection to the owner of the session ``request`` names, if another."""
        if not self.engine.handles(request.path):
            return False
        sid = _sid(request.query)
        owner = owner_of(sid) if sid else None
        stats = self.stats
        if self.bridge is not None and owner is not None and sid and node_of(sid) != self.node:
            target = channel_of(self.key, node_of(sid), owner)
            limit = self.engine.max_http_buffer_size * 2 + 65_536
            take_over(
                transport.get_protocol(), Forwarding(self.bridge, target, transport, limit), raw
            )
            return True
        if owner == stats.index:
            stats.own_requests += 1
            return False
        if owner is None:
            return False  # no worker's: served here (an unknown session gets its 400)
        sock = transport.get_extra_info("socket")
        if sock is None or transport.get_extra_info("sslcontext"):
            return False
        if transport.get_write_buffer_size():  # an answer still leaving: not at a boundary
            stats.handoff_failures += 1
            return False
        for _ in range(2):  # a link to a replaced worker breaks once, then is made again
            link = self._link(owner)
            if link is None or len(link.out) >= _MAX_QUEUED:  # gone, or not reading any more
                break
            try:
                fd = os.dup(sock.fileno())
            except OSError:  # out of descriptors: the request is refused here
                break
            if link.send(fd, raw):
                transport.pause_reading()
                transport.abort()  # closes this process's descriptor only
                stats.handed_out += 1
                return True
            self.links.pop(owner, None)
        stats.handoff_failures += 1
        return False  # no such worker (or it is gone): its sessions are unknown here too (400)

    def _link(self, owner: int) -> _Link | None:
        link = self.links.get(owner)
        if link is not None and not link.broken:
            return link
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)  # a full backlog fails at once (EAGAIN) instead of blocking
        try:
            sock.connect(link_path(self.rundir, owner))
        except OSError:
            sock.close()
            return None
        link = self.links[owner] = _Link(asyncio.get_running_loop(), sock)
        return link

    def close(self) -> None:
        """Close every link."""
        for link in self.links.values():
            link.close()
        self.links.clear()


class _Peer:
    """The receiving end of one other worker's link."""

    def __init__(self, inbox: HandoffInbox, sock: socket.socket) -> None:
        self.inbox = inbox
        self.sock = sock
        self.buffer = bytearray()
        self.fds: deque[int] = deque()
        inbox.loop.add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        try:
            data, ancdata, flags, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(_MAX_FDS * 4))
        except BlockingIOError:
            return
        except OSError:
            data, ancdata, flags = b"", [], 0
        for level, kind, payload in ancdata:
            if (level, kind) == _RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                self.fds.extend(fds)
        if not data or flags & socket.MSG_CTRUNC:
            self.close()
            return
        self.buffer += data
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= _HEADER.size:
            (length,) = _HEADER.unpack_from(buffer)
            if length > _MAX_FRAME or not self.fds:
                logger.warning("siox workers: a malformed handoff frame; link dropped")
                self.close()
                return
            if len(buffer) < _HEADER.size + length:
                return
            raw = bytes(buffer[_HEADER.size : _HEADER.size + length])
            del buffer[: _HEADER.size + length]
            self.inbox.deliver(self.fds.popleft(), raw)

    def close(self) -> None:
        self.inbox.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        while self.fds:
            _close(self.fds.popleft())
        self.inbox.peers.discard(self)


class HandoffInbox:
    """Where one worker receives the connections other workers hand it.

    Args:
        path: the Unix socket path to listen on (`link_path`).
        adopt: serves each received connection.
        stats: this worker's counters.
    """

    def __init__(self, path: str, adopt: Adopt, stats: WorkerStats) -> None:
        self.path = path
        self.adopt = adopt
        self.stats = stats
        self.loop = asyncio.get_running_loop()
        self.peers: set[_Peer] = set()
        try:
            os.unlink(path)  # left by the worker this one replaces
        except FileNotFoundError:
            pass
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.loop.add_reader(self.listener.fileno(), self._accept)

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except OSError:
            return
        sock.setblocking(False)
        self.peers.add(_Peer(self, sock))

    def deliver(self, fd: int, raw: bytes) -> None:
        """Adopt one handed-over connection (closing it if that fails)."""
        try:
            sock = socket.socket(fileno=fd)
        except OSError:
            _close(fd)
            return
        try:
            sock.setblocking(False)
            self.adopt(sock, raw)
        except Exception:
            logger.exception("siox workers: could not adopt a handed-over connection")
            sock.close()
            return
        self.stats.handed_in += 1

    def close(self) -> None:
        """Stop receiving; close the links and what they still held."""
        self.loop.remove_reader(self.listener.fileno())
        self.listener.close()
        for peer in list(self.peers):
            peer.close()
