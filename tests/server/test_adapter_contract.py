"""Every server operation goes through the adapter contract (siox.adapters), none around it.

A recording adapter (the exported in-memory one, with every contract method wrapped) sees each
operation; an adapter written from the abstract contract alone, that holds nobody, proves the
server reaches no socket behind its back.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

import pytest

import siox
from rawpeer import RawWebSocket, eio_url, running, websocket, ws_connect_sio
from siox.adapters import (
    AckCount,
    AckReply,
    Adapter,
    BroadcastOptions,
    FetchedSocket,
    LocalSockets,
    SessionState,
)
from siox.parser import Packet

CONTRACT = [
    "add_all",
    "delete",
    "delete_all",
    "broadcast",
    "broadcast_with_ack",
    "fetch_sockets",
    "add_sockets",
    "del_sockets",
    "disconnect_sockets",
    "persist_session",
    "restore_session",
]


class RecordingAdapter(siox.InMemoryAdapter):
    """The in-memory adapter, recording each contract call as (method, detail)."""

    calls: list[tuple[str, Any]]

    def __init__(self, local: Any, **options: Any) -> None:
        super().__init__(local, **options)
        self.calls = []

    async def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        self.calls.append(("add_all", (sid, rooms)))
        await super().add_all(sid, rooms)

    async def delete(self, sid: str, room: str) -> None:
        self.calls.append(("delete", (sid, room)))
        await super().delete(sid, room)

    async def delete_all(self, sid: str) -> None:
        self.calls.append(("delete_all", sid))
        await super().delete_all(sid)

    async def broadcast(self, packet: Any, opts: Any) -> None:
        self.calls.append(("broadcast", (packet.data[0], sorted(opts.rooms))))
        await super().broadcast(packet, opts)

    async def broadcast_with_ack(
        self, packet: Any, opts: Any, on_count: Any, on_reply: Any
    ) -> None:
        self.calls.append(("broadcast_with_ack", packet.data[0]))
        await super().broadcast_with_ack(packet, opts, on_count, on_reply)

    async def fetch_sockets(self, opts: Any) -> list[Any]:
        self.calls.append(("fetch_sockets", sorted(opts.rooms)))
        return await super().fetch_sockets(opts)

    async def add_sockets(self, opts: Any, rooms: Iterable[str]) -> None:
        self.calls.append(("add_sockets", sorted(rooms)))
        await super().add_sockets(opts, rooms)

    async def del_sockets(self, opts: Any, rooms: Iterable[str]) -> None:
        self.calls.append(("del_sockets", sorted(rooms)))
        await super().del_sockets(opts, rooms)

    async def disconnect_sockets(self, opts: Any, close: bool) -> None:
        self.calls.append(("disconnect_sockets", close))
        await super().disconnect_sockets(opts, close)

    async def persist_session(self, session: Any) -> None:
        self.calls.append(("persist_session", session.sid))
        await super().persist_session(session)

    async def restore_session(self, pid: str, offset: str) -> Any:
        self.calls.append(("restore_session", pid))
        return await super().restore_session(pid, offset)

    def called(self, name: str) -> list[Any]:
        return [detail for method, detail in self.calls if method == name]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0.02)


def recording_server() -> tuple[siox.Server, list[RecordingAdapter]]:
    adapters: list[RecordingAdapter] = []

    def factory(local: Any) -> RecordingAdapter:
        adapter = RecordingAdapter(local, max_disconnection_duration=5.0)
        adapters.append(adapter)
        return adapter

    sio = siox.Server(adapter=factory, connection_state_recovery=True)
    return sio, adapters


async def test_socket_registration_and_recovery_emits_go_through_the_adapter() -> None:
    sio, adapters = recording_server()

    @sio.on("connect")
    async def connect(socket: siox.Socket) -> None:
        await socket.join("news")
        await socket.emit("welcome", 1)  # recovery on: through the adapter, with an offset

    @sio.on("bye")
    async def bye(socket: siox.Socket) -> None:
        await socket.leave("news")

    async with running(sio) as port:
        peer, sid = await ws_connect_sio(port)
        welcome = await peer.recv()
        assert isinstance(welcome, str) and welcome.startswith('42["welcome",1,"')
        await peer.send('42["bye"]')
        await settle()
        await peer.close()
        await settle()
    adapter = adapters[0]
    assert adapter.called("add_all")[:2] == [(sid, [sid]), (sid, ["news"])]
    assert ("welcome", [sid]) in adapter.called("broadcast")
    assert adapter.called("delete") == [(sid, "news")]
    assert adapter.called("persist_session") == [sid]
    assert adapter.called("delete_all") == [sid]


async def test_every_bulk_operation_goes_through_the_adapter() -> None:
    sio, adapters = recording_server()

    @sio.on("ping")
    def ping(socket: siox.Socket) -> str:
        return "pong"

    async with running(sio) as port:
        peer, sid = await ws_connect_sio(port)
        await sio.to("a").emit("x")
        await sio.sockets_join("a")
        sockets = await sio.in_("a").fetch_sockets()
        assert [s.id for s in sockets] == [sid]

        async def answer() -> None:
            message = await peer.recv_until(lambda m: isinstance(m, str) and "ask" in m)
            assert isinstance(message, str)
            await peer.send("43" + message[2 : message.index("[")] + '["yes"]')

        answering = asyncio.create_task(answer())
        results = await sio.timeout(2).emit_with_ack("ask")
        await answering
        assert results.replies == ["yes"]
        await sio.sockets_leave("a")
        await sio.disconnect_sockets()
        await settle()
    adapter = adapters[0]
    names = [name for name, _ in adapter.calls]
    for name in ("broadcast", "add_sockets", "fetch_sockets", "broadcast_with_ack"):
        assert name in names, name
    assert adapter.called("add_sockets") == [["a"]]
    assert adapter.called("del_sockets") == [["a"]]
    assert adapter.called("disconnect_sockets") == [False]
    # add_sockets/del_sockets reach each socket through the membership methods
    assert (sid, ["a"]) in adapter.called("add_all")
    assert (sid, "a") in adapter.called("delete")


async def test_reconnecting_with_a_pid_asks_the_adapter_to_restore_the_session() -> None:
    sio, adapters = recording_server()
    async with running(sio) as port:
        peer = await websocket(port, eio_url("transport=websocket"))
        assert isinstance(peer, RawWebSocket)
        await peer.recv()
        await peer.send('40{"pid":"p1","offset":"o1"}')
        reply = await peer.recv()
        assert isinstance(reply, str) and reply.startswith("40{")
        assert json.loads(reply[2:])["pid"] != "p1"  # nothing kept: a fresh session
    assert adapters[0].called("restore_session") == ["p1"]


class HollowAdapter(Adapter):
    """Written from the contract alone: it records, keeps nobody and reaches no socket."""

    def __init__(self, local: LocalSockets) -> None:
        super().__init__(local)
        self.calls: list[str] = []

    async def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        self.calls.append("add_all")

    async def delete(self, sid: str, room: str) -> None:
        self.calls.append("delete")

    async def delete_all(self, sid: str) -> None:
        self.calls.append("delete_all")

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        self.calls.append("broadcast")

    async def broadcast_with_ack(
        self, packet: Packet, opts: BroadcastOptions, on_count: AckCount, on_reply: AckReply
    ) -> None:
        self.calls.append("broadcast_with_ack")
        on_count(0, ())

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[FetchedSocket]:
        self.calls.append("fetch_sockets")
        return []

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        self.calls.append("add_sockets")

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        self.calls.append("del_sockets")

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        self.calls.append("disconnect_sockets")

    async def restore_session(self, pid: str, offset: str) -> SessionState | None:
        self.calls.append("restore_session")
        return None


async def test_an_adapter_that_keeps_nobody_means_broadcasts_reach_nobody() -> None:
    hollow: list[HollowAdapter] = []

    def factory(local: LocalSockets) -> HollowAdapter:
        hollow.append(HollowAdapter(local))
        return hollow[-1]

    sio = siox.Server(adapter=factory)

    @sio.on("connect")
    async def connect(socket: siox.Socket) -> None:
        await socket.join("r")

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await sio.emit("everyone")
        await sio.to("r").emit("room")
        assert await sio.fetch_sockets() == []
        results = await sio.timeout(0.2).emit_with_ack("ask")
        assert results.replies == [] and results.missing == 0
        await sio.disconnect_sockets()
        await peer.send('42["still here"]')
        with pytest.raises(TimeoutError):
            await peer.recv(timeout=0.3)  # the server sent nothing on its own
    calls = hollow[0].calls
    assert calls[:2] == ["add_all", "add_all"]
    assert {"broadcast", "fetch_sockets", "broadcast_with_ack", "disconnect_sockets"} <= set(calls)


def test_the_contract_is_abstract_and_async() -> None:
    with pytest.raises(TypeError):
        Adapter(None)  # type: ignore[abstract,arg-type]
    for name in CONTRACT:
        method = getattr(Adapter, name)
        assert asyncio.iscoroutinefunction(method), name
