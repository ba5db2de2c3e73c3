"""The polling -> WebSocket upgrade (U rows) and connection state recovery."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import siox
from rawpeer import RawWebSocket, eio_url, http, open_polling, running, websocket


async def upgrade(port: int, sid: str) -> RawWebSocket:
    peer = await websocket(port, eio_url(f"transport=websocket&sid={sid}"))
    assert isinstance(peer, RawWebSocket)
    await peer.send("2probe")
    assert await peer.recv() == "3probe"
    await peer.send("5")
    return peer


async def test_upgrade_keeps_every_packet_in_order() -> None:
    sio = siox.Server()
    sent: list[int] = []

    @sio.on("burst")
    async def burst(socket: siox.Socket, n: int) -> None:
        for i in range(n):
            await socket.emit("n", i)
            sent.append(i)
            if i % 10 == 0:
                await asyncio.sleep(0)

    async with running(sio) as port:
        sid, _ = await open_polling(port)
        await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b"40")
        got = await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
        assert got.text.startswith("40")
        await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b'42["burst",200]')
        received: list[int] = []
        first = await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
        for packet in first.text.split("\x1e"):
            received.append(json.loads(packet[2:])[1])
        peer = await websocket(port, eio_url(f"transport=websocket&sid={sid}"))
        assert isinstance(peer, RawWebSocket)
        await peer.send("2probe")
        assert await peer.recv() == "3probe"
        # Packets queued during the probe wait for the upgrade or the next poll.
        poll = await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
        for packet in poll.text.split("\x1e"):
            if packet != "6":
                received.append(json.loads(packet[2:])[1])
        await peer.send("5")
        while len(received) < 200:
            message = await peer.recv()
            assert isinstance(message, str)
            if message.startswith("42"):
                received.append(json.loads(message[2:])[1])
        assert received == list(range(200))
        # H16: polling after the upgrade is refused; U02: a second WebSocket is refused.
        late = await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
        assert late.status == 400
        second = await websocket(port, eio_url(f"transport=websocket&sid={sid}"))
        assert isinstance(second, RawWebSocket)  # accepted, then closed, as the reference does
        assert await second.closed() == 1000
        await peer.send('42["burst",1]')
        assert await peer.recv() == '42["n",0]'  # the first WebSocket still works


async def test_probe_releases_the_pending_get_with_a_noop() -> None:
    async with running(siox.Server()) as port:
        sid, _ = await open_polling(port)
        pending = asyncio.create_task(http(port, "GET", eio_url(f"transport=polling&sid={sid}")))
        await asyncio.sleep(0.1)
        peer = await websocket(port, eio_url(f"transport=websocket&sid={sid}"))
        assert isinstance(peer, RawWebSocket)
        await peer.send("2probe")
        assert await peer.recv() == "3probe"
        assert (await pending).text == "6"
        await peer.send("5")
        await peer.send("40")
        assert (await peer.recv_text()).startswith("40{")


async def test_u01_upgrade_with_unknown_sid_is_refused() -> None:
    async with running(siox.Server()) as port:
        refused = await websocket(port, eio_url("transport=websocket&sid=nope"))
        assert getattr(refused, "status", None) == 400


async def test_u03_probe_without_upgrade_times_out_and_polling_keeps_working() -> None:
    async with running(siox.Server(upgrade_timeout=0.3)) as port:
        sid, _ = await open_polling(port)
        peer = await websocket(port, eio_url(f"transport=websocket&sid={sid}"))
        assert isinstance(peer, RawWebSocket)
        await peer.send("2probe")
        assert await peer.recv() == "3probe"
        await peer.closed(timeout=3)
        post = await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b"40")
        assert post.text == "ok"
        got = await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
        assert got.text.startswith("40{")


async def test_u05_upgrade_before_probe_closes_the_probe_only() -> None:
    async with running(siox.Server()) as port:
        sid, _ = await open_polling(port)
        peer = await websocket(port, eio_url(f"transport=websocket&sid={sid}"))
        assert isinstance(peer, RawWebSocket)
        await peer.send("5")
        await peer.closed(timeout=3)
        post = await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b"40")
        assert post.text == "ok"


async def connect_ws(
    port: int, auth: dict[str, Any] | None = None
) -> tuple[RawWebSocket, dict[str, Any]]:
    peer = await websocket(port, eio_url("transport=websocket"))
    assert isinstance(peer, RawWebSocket)
    await peer.recv()
    await peer.send("40" + (json.dumps(auth) if auth else ""))
    reply = await peer.recv()
    assert isinstance(reply, str) and reply.startswith("40{")
    return peer, json.loads(reply[2:])


async def test_recovery_restores_id_rooms_data_and_missed_packets() -> None:
    sio = siox.Server(connection_state_recovery=siox.Recovery(max_disconnection_duration=5))
    seen: list[tuple[str, bool, dict[str, Any]]] = []

    @sio.on("connect")
    async def connect(socket: siox.Socket) -> None:
        seen.append((socket.id, socket.recovered, dict(socket.data)))
        if not socket.recovered:
            socket.data["name"] = "ada"
            await socket.join("news")

    async with running(sio) as port:
        peer, reply = await connect_ws(port)
        pid = reply["pid"]
        await sio.to("news").emit("headline", 1)
        message = await peer.recv()
        assert isinstance(message, str)
        offset = json.loads(message[2:])[-1]  # the offset is the last argument
        await peer.close()
        await asyncio.sleep(0.2)
        await sio.to("news").emit("headline", 2)  # missed while away
        await sio.emit("everyone", 3)
        again, reply2 = await connect_ws(port, {"pid": pid, "offset": offset})
        assert reply2["sid"] == reply["sid"]
        first = json.loads((await again.recv())[2:])
        second = json.loads((await again.recv())[2:])
        assert [first[:2], second[:2]] == [["headline", 2], ["everyone", 3]]
        fresh, reply3 = await connect_ws(port, {"pid": "unknown", "offset": offset})
        assert reply3["sid"] != reply["sid"]
    assert seen[0][1] is False
    assert seen[1] == (reply["sid"], True, {"name": "ada"})
    assert seen[2][1] is False


async def test_recovery_with_an_unknown_offset_gives_a_fresh_session() -> None:
    sio = siox.Server(connection_state_recovery=True)
    async with running(sio) as port:
        peer, reply = await connect_ws(port)
        await peer.close()
        await asyncio.sleep(0.2)
        _, reply2 = await connect_ws(port, {"pid": reply["pid"], "offset": "nope"})
        assert reply2["sid"] != reply["sid"]
