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

#: The members of a room, or the rooms of a socket: a set, or the one name itself when there is
#: one (every socket is alone in the room of its own id: no set for it), or `_EMPTY` (a socket in
#: no room).
_Names = set[str] | frozenset[str] | str


def _with(names: _Names | None, name: str) -> _Names:
    """``names`` and ``name`` (a set is extended in place)."""
    if names is None or names is _EMPTY:
        return name
    if isinstance(names, str):
        return names if names == name else {names, name}
    names.add(name)  # type: ignore[union-attr]  # not `_EMPTY`: a set
    return names


def _without(names: _Names, name: str) -> _Names | None:
    """``names`` less ``name``; None when nothing is left (a set shrinks in place)."""
    if isinstance(names, str):
        return None if names == name else names
    names.discard(name)  # type: ignore[union-attr]  # `_EMPTY` is never given
    if len(names) == 1:
        return next(iter(names))
    return names if names else None


def _has(names: _Names | None, name: str) -> bool:
    if names is None:
        return False
    return names == name if isinstance(names, str) else name in names


def _each(names: _Names) -> Iterable[str]:
    return (names,) if isinstance(names, str) else names


class RoomIndex:
    """Two-way index between socket ids and room names.

    Attributes:
        listener: told of every actual change of membership (a socket that joins a room it
            is already in changes nothing); None, the default, for an index nobody watches.
    """

    __slots__ = ("_rooms", "_sids", "listener")

    def __init__(self) -> None:
        self._rooms: dict[str, _Names] = {}
        self._sids: dict[str, _Names] = {}
        self.listener: RoomListener | None = None

    def __len__(self) -> int:
        return len(self._sids)

    def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        """Put ``sid`` in each of ``rooms`` (a socket with no room is indexed all the same)."""
        if self.listener is not None:
            self._add_all_watched(sid, rooms, self.listener)
            return
        index = self._rooms
        joined: _Names = self._sids.get(sid, _EMPTY)
        for room in rooms:
            joined = _with(joined, room)
            index[room] = _with(index.get(room), sid)
        self._sids[sid] = joined

    def _add_all_watched(self, sid: str, rooms: Iterable[str], listener: RoomListener) -> None:
        new = [room for room in dict.fromkeys(rooms) if not _has(self._sids.get(sid), room)]
        self._sids.setdefault(sid, _EMPTY)
        for room in new:
            self._sids[sid] = _with(self._sids[sid], room)
            self._rooms[room] = _with(self._rooms.get(room), sid)
            listener(room, sid, True)

    def delete(self, sid: str, room: str) -> None:
        """Take ``sid`` out of ``room`` (an empty room disappears)."""
        joined = self._sids.get(sid)
        if joined is not None and _has(joined, room):
            left = _without(joined, room)
            self._sids[sid] = _EMPTY if left is None else left
            self._drop_member(room, sid)
            if self.listener is not None:
                self.listener(room, sid, False)
            return
        self._drop_member(room, sid)

    def delete_all(self, sid: str) -> None:
        """Forget ``sid`` and take it out of every room."""
        listener = self.listener
        for room in _each(self._sids.pop(sid, _EMPTY)):
            self._drop_member(room, sid)
            if listener is not None:
                listener(room, sid, False)

    def _drop_member(self, room: str, sid: str) -> None:
        members = self._rooms.get(room)
        if members is not None:
            left = _without(members, sid)
            if left is None:
                del self._rooms[room]
            elif left is not members:
                self._rooms[room] = left

    def rooms_of(self, sid: str) -> frozenset[str]:
        """The rooms ``sid`` is in."""
        joined = self._sids.get(sid)
        return _EMPTY if joined is None or joined is _EMPTY else frozenset(_each(joined))

    def rooms(self) -> dict[str, frozenset[str]]:
        """Every room with its members (a copy)."""
        return {room: frozenset(_each(members)) for room, members in self._rooms.items()}

    def sids(self) -> frozenset[str]:
        """Every indexed socket id."""
        return frozenset(self._sids)

    def select(self, rooms: Iterable[str] = (), except_rooms: Iterable[str] = ()) -> set[str]:
        """Ids in any of ``rooms`` (every id when none is given) and in none of ``except_rooms``."""
        selected: set[str] = set()
        any_room = False
        index = self._rooms
        for room in rooms:
            any_room = True
            members = index.get(room)
            if members is not None:
                if isinstance(members, str):
                    selected.add(members)
                else:
                    selected |= members
        if not any_room:
            selected = set(self._sids)
        for room in except_rooms:
            members = index.get(room)
            if members is not None:
                if isinstance(members, str):
                    selected.discard(members)
                else:
                    selected -= members
        return selected
