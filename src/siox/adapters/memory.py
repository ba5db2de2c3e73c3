"""`InMemoryAdapter`: the adapter of a single process, and the local half of a cluster adapter.

Connection state recovery (socket.io 4.6+ ``SessionAwareAdapter``): with
``max_disconnection_duration`` set, every EVENT without ack id that is not volatile gets a
string offset appended as its last argument and is kept, with its targeting, for that long; a
socket that comes back with its ``pid`` and last seen offset gets the packets it missed.
"""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..parser import Packet, PacketType
from .base import (
    AckCount,
    AckReply,
    Adapter,
    BroadcastOptions,
    FetchedSocket,
    LocalSockets,
    SessionState,
)

__all__ = ["InMemoryAdapter", "local_membership"]


@dataclass(slots=True)
class _StoredPacket:
    offset: str
    rooms: frozenset[str]
    except_rooms: frozenset[str]
    data: list[Any]
    emitted_at: float


class InMemoryAdapter(Adapter):
    """The default adapter; with ``max_disconnection_duration`` it also keeps sessions.

    Args:
        local: the namespace's local sockets.
        max_disconnection_duration: how long sessions and packets are kept for recovery
            (seconds), or None when recovery is off.
        max_stored_packets: bound on the packets kept for recovery.
        clock: the clock recovery windows are measured with (monotonic seconds).
    """

    def __init__(
        self,
        local: LocalSockets,
        *,
        max_disconnection_duration: float | None = None,
        max_stored_packets: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(local)
        self._window = max_disconnection_duration
        self._max_packets = max_stored_packets
        self._clock = clock
        self._sessions: dict[str, SessionState] = {}
        #: how many kept sessions are in each room (a cluster node keeps receiving those rooms)
        self._session_rooms: Counter[str] = Counter()
        self._next_sweep = 0.0
        self._packets: deque[_StoredPacket] = deque()
        self._counter = int.from_bytes(os.urandom(5), "big")

    def _select(self, opts: BroadcastOptions) -> set[str]:
        return self.local.rooms.select(opts.rooms, opts.except_rooms)

    # -- membership -------------------------------------------------------------------------------

    async def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        """Put ``sid`` in ``rooms`` (never suspends: see `local_membership`)."""
        self.local.rooms.add_all(sid, rooms)

    async def delete(self, sid: str, room: str) -> None:
        """Take ``sid`` out of ``room``."""
        self.local.rooms.delete(sid, room)

    async def delete_all(self, sid: str) -> None:
        """Take ``sid`` out of every room."""
        self.local.rooms.delete_all(sid)

    # -- broadcasting -----------------------------------------------------------------------------

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Send ``packet`` to the selected sockets (with a recovery offset when it applies)."""
        packet = self._keep_for_recovery(packet, opts)
        self.local.send(self._select(opts), packet, opts)

    async def broadcast_with_ack(
        self, packet: Packet, opts: BroadcastOptions, on_count: AckCount, on_reply: AckReply
    ) -> None:
        """Send ``packet`` to the selected sockets, each with an ack id."""
        sent = self.local.send_with_ack(self._select(opts), packet, on_reply, opts.timeout)
        on_count(len(sent), sent)

    # -- bulk operations --------------------------------------------------------------------------

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[FetchedSocket]:
        """The selected local sockets."""
        return self.local.sockets(self._select(opts))

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the selected sockets join ``rooms``."""
        rooms = tuple(rooms)
        for sid in self._select(opts):
            await self.add_all(sid, rooms)

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the selected sockets leave ``rooms``."""
        rooms = tuple(rooms)
        for sid in self._select(opts):
            for room in rooms:
                await self.delete(sid, room)

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        """Disconnect the selected sockets."""
        self.local.disconnect(self._select(opts), close)

    # -- connection state recovery ----------------------------------------------------------------

    def _keep_for_recovery(self, packet: Packet, opts: BroadcastOptions) -> Packet:
        if (
            self._window is None
            or packet.type is not PacketType.EVENT
            or packet.id is not None
            or opts.volatile
        ):
            return packet
        self._counter += 1
        offset = format(self._counter, "x")
        data = [*packet.data, offset]
        now = self._clock()
        self._packets.append(_StoredPacket(offset, opts.rooms, opts.except_rooms, data, now))
        self._prune(now)
        return Packet(PacketType.EVENT, packet.nsp, data)

    def _prune(self, now: float) -> None:
        assert self._window is not None
        threshold = now - self._window
        packets = self._packets
        while packets and (packets[0].emitted_at < threshold or len(packets) > self._max_packets):
            packets.popleft()
        if self._sessions and (len(self._sessions) > 64 or now >= self._next_sweep):
            # amortized sweep of expired sessions: when many are kept, else once a second
            self._next_sweep = now + 1.0
            for pid in [p for p, s in self._sessions.items() if s.disconnected_at < threshold]:
                self._release_rooms(self._sessions.pop(pid).rooms)

    def _kept_room(self, room: str) -> bool:
        """Whether a kept session is in ``room`` (its packets must still be kept)."""
        return self._session_rooms.get(room, 0) > 0

    def _release_rooms(self, rooms: list[str]) -> None:
        """A kept session is gone (restored or expired): it no longer holds ``rooms``."""
        self._session_rooms.subtract(rooms)
        released = [room for room in rooms if self._session_rooms.get(room, 0) <= 0]
        for room in released:
            self._session_rooms.pop(room, None)
        if released:
            self._rooms_released(released)

    def _rooms_released(self, rooms: list[str]) -> None:
        """Hook: no kept session holds ``rooms`` any more (a cluster adapter may unsubscribe)."""

    def configure_recovery(self, max_disconnection_duration: float) -> None:
        """Use the server's recovery window unless this adapter was given one."""
        if self._window is None:
            self._window = max_disconnection_duration

    async def persist_session(self, session: SessionState) -> None:
        """Keep ``session`` for ``max_disconnection_duration``."""
        if self._window is None:
            return
        session.disconnected_at = self._clock()
        previous = self._sessions.get(session.pid)
        if previous is not None:
            self._release_rooms(previous.rooms)
        self._sessions[session.pid] = session
        self._session_rooms.update(session.rooms)

    async def restore_session(self, pid: str, offset: str) -> SessionState | None:
        """The kept session for ``pid`` with the packets after ``offset``, or None."""
        if self._window is None:
            return None
        session = self._sessions.pop(pid, None)
        if session is not None:
            self._release_rooms(session.rooms)
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


def local_membership(adapter: Adapter) -> bool:
    """Whether ``adapter``'s ``add_all`` and ``delete_all`` are the in-memory adapter's.

    Those never suspend: a connection may run them in an eager first step (`siox.server.eager`).
    """
    cls = type(adapter)
    return cls.add_all is InMemoryAdapter.add_all and cls.delete_all is InMemoryAdapter.delete_all
