"""`RoomIndex` against a plain model (a set of rooms per socket): same rooms, members,
selections and listener calls after any sequence of joins and leaves, with a listener or not
(a one-member room and a one-room socket are kept without a set of their own)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from siox.socketio.rooms import RoomIndex

names = st.sampled_from(["a", "b", "c", "", "s1", "s2"])
sids = st.sampled_from(["s1", "s2", "s3"])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add_all"), sids, st.lists(names, max_size=4)),
        st.tuples(st.just("delete"), sids, names),
        st.tuples(st.just("delete_all"), sids, st.just("")),
    ),
    max_size=40,
)


class Model:
    def __init__(self) -> None:
        self.sids: dict[str, set[str]] = {}
        self.changes: list[tuple[str, str, bool]] = []

    def add_all(self, sid: str, rooms: list[str]) -> None:
        joined = self.sids.setdefault(sid, set())
        for room in dict.fromkeys(rooms):
            if room not in joined:
                joined.add(room)
                self.changes.append((room, sid, True))

    def delete(self, sid: str, room: str) -> None:
        joined = self.sids.get(sid)
        if joined is not None and room in joined:
            joined.discard(room)
            self.changes.append((room, sid, False))

    def delete_all(self, sid: str) -> None:
        for room in sorted(self.sids.pop(sid, set())):
            self.changes.append((room, sid, False))

    def rooms(self) -> dict[str, frozenset[str]]:
        out: dict[str, set[str]] = {}
        for sid, joined in self.sids.items():
            for room in joined:
                out.setdefault(room, set()).add(sid)
        return {room: frozenset(members) for room, members in out.items()}


def check(index: RoomIndex, model: Model) -> None:
    assert len(index) == len(model.sids)
    assert index.sids() == frozenset(model.sids)
    assert index.rooms() == model.rooms()
    for sid in ("s1", "s2", "s3"):
        assert index.rooms_of(sid) == frozenset(model.sids.get(sid, ()))
    rooms = model.rooms()
    for pick in ([], ["a"], ["a", "s1"], ["s2", ""]):
        for exclude in ([], ["b"], ["s1", "c"]):
            expected = (
                set(model.sids) if not pick else set().union(*(rooms.get(r, ()) for r in pick))
            )
            expected -= set().union(*(rooms.get(r, ()) for r in exclude))
            assert index.select(pick, exclude) == expected


@settings(max_examples=300, deadline=None)
@given(operations, st.booleans())
def test_the_index_agrees_with_a_plain_model(
    ops: list[tuple[str, str, object]], watched: bool
) -> None:
    index, model = RoomIndex(), Model()
    seen: list[tuple[str, str, bool]] = []
    if watched:
        index.listener = lambda room, sid, joined: seen.append((room, sid, joined))
    for name, sid, arg in ops:
        getattr(index, name)(sid, *(() if name == "delete_all" else (arg,)))
        getattr(model, name)(sid, *(() if name == "delete_all" else (arg,)))
        check(index, model)
    if watched:
        assert sorted(seen) == sorted(model.changes)
