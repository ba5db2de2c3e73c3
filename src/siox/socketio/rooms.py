"""`RoomIndex`: which socket is in which room, both ways, for the sockets of one namespace.

Sans-I/O and synchronous: the server keeps one index per namespace for the sockets it holds
itself, and every adapter reaches local membership through it. Selection follows socket.io's
in-memory adapter: with no rooms, every socket; otherwise the union of the rooms' members;
then minus the members of every excepted room.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["RoomIndex", "RoomListener"]

#: ``listener(room, sid, joined)``: ``sid`` joined (True) or left (False) ``room``.
RoomListener = Callable[[str, str, bool], None]

_EMPTY: frozenset[str] = frozenset()


class RoomIndex:
    """Two-way index between socket ids and room names.

    Attributes:
        listener: told of every actual change of membership (a socket that joins a room it
            is already in changes nothing); None, the default, for an index nobody watches.
    """

    __slots__ = ("_rooms", "_sids", "listener")

    def __init__(self) -> None:
        self._rooms: dict[str, set[str]] = {}
        self._sids: dict[str, set[str]] = {}
        self.listener: RoomListener | None = None

    def __len__(self) -> int:
        return len(self._sids)

    def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        """Put ``sid`` in each of ``rooms`` (a socket with no room is indexed all the same)."""
        if self.listener is not None:
            self._add_all_watched(sid, rooms, self.listener)
            return
        joined = self._sids.get(sid)
        if joined is None:
            joined = self._sids[sid] = set()
        for room in rooms:
            joined.add(room)
            members = self._rooms.get(room)
            if members is None:
                self._rooms[room] = {sid}
            else:
                members.add(sid)

    def _add_all_watched(self, sid: str, rooms: Iterable[str], listener: RoomListener) -> None:
        new = [room for room in dict.fromkeys(rooms) if room not in self._sids.get(sid, ())]
        self._sids.setdefault(sid, set())
        for room in new:
            self._sids[sid].add(room)
            self._rooms.setdefault(room, set()).add(sid)
            listener(room, sid, True)

    def delete(self, sid: str, room: str) -> None:
        """Take ``sid`` out of ``room`` (an empty room disappears)."""
        joined = self._sids.get(sid)
        if joined is not None:
            if self.listener is not None and room in joined:
                joined.discard(room)
                self._drop_member(room, sid)
                self.listener(room, sid, False)
                return
            joined.discard(room)
        self._drop_member(room, sid)

    def delete_all(self, sid: str) -> None:
        """Forget ``sid`` and take it out of every room."""
        listener = self.listener
        for room in self._sids.pop(sid, ()):
            self._drop_member(room, sid)
            if listener is not None:
                listener(room, sid, False)

    def _drop_member(self, room: str, sid: str) -> None:
        members = self._rooms.get(room)
        if members is not None:
            members.discard(sid)
            if not members:
                del self._rooms[room]

    def rooms_of(self, sid: str) -> frozenset[str]:
        """The rooms ``sid`` is in."""
        joined = self._sids.get(sid)
        return frozenset(joined) if joined else _EMPTY

    def rooms(self) -> dict[str, frozenset[str]]:
        """Every room with its members (a copy)."""
        return {room: frozenset(members) for room, members in self._rooms.items()}

    def sids(self) -> frozenset[str]:
        """Every indexed socket id."""
        return frozenset(self._sids)

    def select(self, rooms: Iterable[str] = (), except_rooms: Iterable[str] = ()) -> set[str]:
        """Ids in any of ``rooms`` (every id when none is given) and in none of ``except_rooms``."""
        selected: set[str] = set()
        any_room = False
        for room in rooms:
            any_room = True
            members = self._rooms.get(room)
            if members:
                selected |= members
        if not any_room:
            selected = set(self._sids)
        for room in except_rooms:
            members = self._rooms.get(room)
            if members:
                selected -= members
        return selected
