"""Rooms, broadcasts and recovery state behind one small interface, with the in-memory default.

`Adapter` is the only way the server reaches sockets in bulk; a cluster adapter (Redis and
friends) subclasses it and adds the remote half, so the server never changes. The interface is
the JS socket.io-adapter's, in Python style (``add_all``, ``delete``, ``delete_all``,
``broadcast``, ``broadcast_with_ack``, ``fetch_sockets``, ``add_sockets``, ``del_sockets``,
``disconnect_sockets``, ``persist_session``, ``restore_session``), async where a cluster needs I/O.

Connection state recovery (socket.io 4.6+ ``SessionAwareAdapter``): with recovery on, every
EVENT without ack id that is not volatile gets a string offset appended as its last argument
and is kept, with its targeting, for ``max_disconnection_duration``; a socket that comes back
with its ``pid`` and last seen offset gets the packets it missed.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..parser import Packet, PacketType
from .outgoing import Outgoing

if TYPE_CHECKING:
    from .namespace import Namespace
    from .socket import Socket

__all__ = ["Adapter", "BroadcastOptions", "InMemoryAdapter", "SessionState"]


@dataclass(frozen=True, slots=True)
class BroadcastOptions:
    """Who a broadcast goes to and how."""

    rooms: frozenset[str] = frozenset()
    except_rooms: frozenset[str] = frozenset()
    volatile: bool = False
    compress: bool = True
    local: bool = False
    timeout: float | None = None


@dataclass(slots=True)
class SessionState:
    """What recovery keeps of a disconnected socket, and what it missed."""

    sid: str
    pid: str
    rooms: list[str]
    data: dict[str, Any]
    disconnected_at: float = 0.0
    missed_packets: list[list[Any]] = field(default_factory=list)


@dataclass(slots=True)
class _StoredPacket:
    offset: str
    rooms: frozenset[str]
    except_rooms: frozenset[str]
    data: list[Any]
    emitted_at: float


class Adapter:
    """The adapter interface, implemented in memory (one process).

    Args:
        namespace: the namespace whose sockets this adapter reaches.
    """

    def __init__(self, namespace: Namespace) -> None:
        self.namespace = namespace
        self.rooms: dict[str, set[str]] = {}
        self.sids: dict[str, set[str]] = {}

    # -- membership -------------------------------------------------------------------------------

    async def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        """Put socket ``sid`` in ``rooms``."""
        self.add_all_now(sid, rooms)

    def add_all_now(self, sid: str, rooms: Iterable[str]) -> None:
        """Local, synchronous `add_all`."""
        joined = self.sids.get(sid)
        if joined is None:
            joined = self.sids[sid] = set()
        for room in rooms:
            joined.add(room)
            members = self.rooms.get(room)
            if members is None:
                self.rooms[room] = {sid}
            else:
                members.add(sid)

    async def delete(self, sid: str, room: str) -> None:
        """Take socket ``sid`` out of ``room``."""
        joined = self.sids.get(sid)
        if joined is not None:
            joined.discard(room)
        members = self.rooms.get(room)
        if members is not None:
            members.discard(sid)
            if not members:
                del self.rooms[room]

    async def delete_all(self, sid: str) -> None:
        """Take socket ``sid`` out of every room."""
        self.delete_all_now(sid)

    def delete_all_now(self, sid: str) -> None:
        """Local, synchronous `delete_all`."""
        for room in self.sids.pop(sid, ()):
            members = self.rooms.get(room)
            if members is not None:
                members.discard(sid)
                if not members:
                    del self.rooms[room]

    def socket_rooms(self, sid: str) -> set[str]:
        """The rooms socket ``sid`` is in (local)."""
        return self.sids.get(sid, set())

    def sockets(self, rooms: Iterable[str] = ()) -> set[str]:
        """Ids of local sockets in any of ``rooms`` (all sockets when empty)."""
        return self._targets(frozenset(rooms), frozenset())

    def _targets(self, rooms: frozenset[str], except_rooms: frozenset[str]) -> set[str]:
        if rooms:
            targets: set[str] = set()
            for room in rooms:
                members = self.rooms.get(room)
                if members:
                    targets |= members
        else:
            targets = set(self.sids)
        for room in except_rooms:
            members = self.rooms.get(room)
            if members:
                targets -= members
        return targets

    def _local_sockets(self, opts: BroadcastOptions) -> list[Socket]:
        known = self.namespace.sockets
        return [s for sid in self._targets(opts.rooms, opts.except_rooms) if (s := known.get(sid))]

    # -- broadcasting -----------------------------------------------------------------------------

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Send ``packet`` to every matching socket, encoding it once per protocol."""
        self.broadcast_now(packet, opts)

    def broadcast_now(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Local, synchronous `broadcast`."""
        sockets = self._local_sockets(opts)
        if sockets:
            self._write(packet, sockets, opts.volatile)

    def _write(self, packet: Packet, sockets: list[Socket], volatile: bool) -> None:
        encoded: dict[Any, Outgoing] = {}
        notify = self.namespace.has_outgoing_listeners()
        for socket in sockets:
            client = socket.client
            key = client.parser_key
            outgoing = encoded.get(key)
            if outgoing is None:
                outgoing = encoded[key] = Outgoing(client.encode(packet), volatile=volatile)
            if notify:
                socket.notify_outgoing(packet.data)
            socket.write_outgoing(outgoing)

    async def broadcast_with_ack(
        self,
        packet: Packet,
        opts: BroadcastOptions,
        on_count: Callable[[int, Iterable[str]], None],
        on_reply: Callable[[str, list[Any] | None], None],
    ) -> None:
        """Send ``packet`` asking each socket for an ack.

        ``on_count(n, ids)`` reports how many replies to expect (and from which socket ids,
        when known); ``on_reply(id, args)`` then reports each reply, with ``args`` None for a
        socket that disconnected before answering.
        """
        sockets = self._local_sockets(opts)
        on_count(len(sockets), [socket.id for socket in sockets])
        for socket in sockets:
            socket.send_with_ack_callback(packet, on_reply)

    async def server_count(self) -> int:
        """How many servers share this namespace (1 in memory)."""
        return 1

    # -- bulk operations --------------------------------------------------------------------------

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[Socket]:
        """The matching sockets (local ones here; remote proxies in a cluster)."""
        return self._local_sockets(opts)

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the matching sockets join ``rooms``."""
        rooms = list(rooms)
        for socket in self._local_sockets(opts):
            await socket.join(rooms)

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the matching sockets leave ``rooms``."""
        rooms = list(rooms)
        for socket in self._local_sockets(opts):
            for room in rooms:
                await socket.leave(room)

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        """Disconnect the matching sockets (and their whole connection when ``close``)."""
        for socket in self._local_sockets(opts):
            await socket.disconnect(close=close)

    # -- recovery ---------------------------------------------------------------------------------

    async def persist_session(self, session: SessionState) -> None:
        """Keep a disconnected socket's state for recovery (no-op without recovery)."""

    async def restore_session(self, pid: str, offset: str) -> SessionState | None:
        """The state of a socket that comes back, with the packets it missed (None: fresh)."""
        return None


class InMemoryAdapter(Adapter):
    """The default adapter; with ``recovery`` set, it also keeps sessions and packets.

    Args:
        namespace: the namespace.
        max_disconnection_duration: how long sessions and packets are kept (seconds), or None
            when recovery is off.
        max_stored_packets: bound on the packets kept for recovery.
    """

    def __init__(
        self,
        namespace: Namespace,
        *,
        max_disconnection_duration: float | None = None,
        max_stored_packets: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(namespace)
        self._window = max_disconnection_duration
        self._max_packets = max_stored_packets
        self._clock = clock
        self._sessions: dict[str, SessionState] = {}
        self._packets: deque[_StoredPacket] = deque()
        self._counter = int.from_bytes(os.urandom(5), "big")

    def _next_offset(self) -> str:
        self._counter += 1
        return format(self._counter, "x")

    def broadcast_now(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Broadcast, appending and keeping an offset for recovery when it applies."""
        if (
            self._window is not None
            and packet.type is PacketType.EVENT
            and packet.id is None
            and not opts.volatile
        ):
            offset = self._next_offset()
            data = [*packet.data, offset]
            packet = Packet(PacketType.EVENT, packet.nsp, data)
            now = self._clock()
            self._packets.append(_StoredPacket(offset, opts.rooms, opts.except_rooms, data, now))
            self._prune(now)
        super().broadcast_now(packet, opts)

    def _prune(self, now: float) -> None:
        assert self._window is not None
        threshold = now - self._window
        packets = self._packets
        while packets and (packets[0].emitted_at < threshold or len(packets) > self._max_packets):
            packets.popleft()
        if len(self._sessions) > 64:  # amortized sweep of expired sessions
            for pid in [p for p, s in self._sessions.items() if s.disconnected_at < threshold]:
                del self._sessions[pid]

    async def persist_session(self, session: SessionState) -> None:
        """Keep ``session`` for ``max_disconnection_duration``."""
        if self._window is None:
            return
        session.disconnected_at = self._clock()
        self._sessions[session.pid] = session

    async def restore_session(self, pid: str, offset: str) -> SessionState | None:
        """The kept session for ``pid`` with the packets after ``offset``, or None."""
        if self._window is None:
            return None
        session = self._sessions.pop(pid, None)
        if session is None or session.disconnected_at + self._window < self._clock():
            return None
        missed: list[list[Any]] = []
        found = False
        rooms = set(session.rooms)
        for stored in self._packets:
            if found:
                included = not stored.rooms or not rooms.isdisjoint(stored.rooms)
                if included and rooms.isdisjoint(stored.except_rooms):
                    missed.append(stored.data)
            elif stored.offset == offset:
                found = True
        if not found:
            return None
        session.missed_packets = missed
        return session
