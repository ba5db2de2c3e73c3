"""Caps a client cannot exceed (issue 14): each refused clearly, each logged once per interval.

Engine-level caps against the native server with raw HTTP; socket-level caps through real
WebSocket peers.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

import siox
from rawpeer import eio_url, http, open_polling, running, ws_connect_sio
from siox.errors import CapExceeded
from siox.options import Caps


async def _handshake(port: int) -> tuple[int, str]:
    result = await http(port, "GET", eio_url("transport=polling"))
    return result.status, result.text


async def test_connections_per_ip_cap_refuses_with_429_and_an_engineio_error_body() -> None:
    sio = siox.Server(caps=Caps(max_connections_per_ip=2))
    async with running(sio) as port:
        first, _ = await open_polling(port)
        await open_polling(port)
        status, body = await _handshake(port)
        assert (status, body) == (429, '{"code":4,"message":"Too many connections"}')
        # A session that ends frees its place.
        await http(port, "POST", eio_url(f"transport=polling&sid={first}"), body=b"1")
        await asyncio.sleep(0.05)
        assert (await _handshake(port))[0] == 200


async def test_connections_per_ip_cap_is_off_by_default() -> None:
    assert siox.Server().options.engine.caps.max_connections_per_ip is None
    sio = siox.Server()
    async with running(sio) as port:
        statuses = [(await _handshake(port))[0] for _ in range(30)]
    assert statuses == [200] * 30


async def _handshake_via(port: int, forwarded: str) -> int:
    target = eio_url("transport=polling")
    result = await http(port, "GET", target, headers=[("X-Forwarded-For", forwarded)])
    return result.status


async def test_per_ip_caps_count_the_forwarded_client_behind_a_trusted_proxy() -> None:
    # The test client (127.0.0.1) plays a reverse proxy; each client behind it gets its own
    # count, and a spoofed left-most entry does not move a client into another's count.
    sio = siox.Server(caps=Caps(max_connections_per_ip=1, trusted_proxies=("127.0.0.0/8",)))
    async with running(sio) as port:
        assert await _handshake_via(port, "203.0.113.7") == 200
        assert await _handshake_via(port, "203.0.113.8") == 200
        assert await _handshake_via(port, "198.51.100.1, 203.0.113.7") == 429
        assert await _handshake_via(port, "203.0.113.9, 127.0.0.2") == 200


async def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    sio = siox.Server(caps=Caps(max_connections_per_ip=1))
    async with running(sio) as port:
        assert await _handshake_via(port, "203.0.113.7") == 200
        assert await _handshake_via(port, "203.0.113.8") == 429


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    with pytest.raises(ValueError, match="not an address"):
        Caps(trusted_proxies=("proxy.local",))
    with pytest.raises(TypeError):
        Caps(trusted_proxies="10.0.0.1")  # type: ignore[arg-type]


async def test_handshakes_per_ip_per_second_cap(caplog: pytest.LogCaptureFixture) -> None:
    sio = siox.Server(caps=Caps(handshakes_per_ip_per_second=5))  # burst 10
    caplog.set_level(logging.WARNING, logger="siox")
    async with running(sio) as port:
        statuses = [(await _handshake(port))[0] for _ in range(30)]
    assert statuses[:10] == [200] * 10
    assert statuses.count(429) >= 15
    lines = [r for r in caplog.records if "handshakes_per_ip_per_second" in r.getMessage()]
    assert len(lines) == 1  # once per source per interval, not once per refusal


async def test_total_sessions_cap_answers_503() -> None:
    sio = siox.Server(caps=Caps(max_sessions=3))
    async with running(sio) as port:
        for _ in range(3):
            await open_polling(port)
        status, body = await _handshake(port)
    assert (status, body) == (503, '{"code":4,"message":"Server full"}')


async def test_events_per_socket_rate_drop() -> None:
    sio = siox.Server(caps=Caps(events_per_second=5, events_burst=10))
    seen: list[int] = []

    @sio.on("ev")
    def ev(socket: siox.Socket, n: int) -> None:
        seen.append(n)

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        for n in range(100):
            await peer.send(f'42["ev",{n}]')
        await asyncio.sleep(0.2)
        assert 10 <= len(seen) <= 13
        assert seen[:10] == list(range(10))
        assert len(sio.connections) == 1  # dropped events, the client stays


async def test_events_per_socket_rate_disconnect_with_a_reason() -> None:
    sio = siox.Server(
        caps=Caps(events_per_second=5, events_burst=10, on_event_overflow="disconnect")
    )
    reasons: list[str] = []

    @sio.on("disconnect")
    def gone(socket: siox.Socket, reason: str) -> None:
        reasons.append(reason)

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        for n in range(30):
            await peer.send(f'42["ev",{n}]')
        await asyncio.sleep(0.2)
        assert reasons == ["rate limit exceeded"]
        # The client is told: a DISCONNECT packet, then the close.
        message = await peer.recv_until(lambda m: m == "41")
        assert message == "41"


def test_on_event_overflow_is_checked() -> None:
    with pytest.raises(ValueError, match="on_event_overflow"):
        Caps(on_event_overflow="ignore")


async def test_namespaces_per_connection_cap() -> None:
    sio = siox.Server(caps=Caps(max_namespaces_per_connection=2))
    for name in ("/a", "/b"):
        sio.of(name)
    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        await peer.send("40/a,")
        assert (await peer.recv_until(lambda m: str(m).startswith("40/a,"))) is not None
        await peer.send("40/b,")
        refusal = await peer.recv_until(lambda m: str(m).startswith("44/b,"))
        assert refusal == '44/b,{"message":"Too many namespaces"}'


async def test_rooms_per_socket_cap() -> None:
    sio = siox.Server(caps=Caps(max_rooms_per_socket=3))  # its own room counts
    outcome: list[object] = []

    @sio.on("join")
    async def join(socket: siox.Socket, room: str) -> None:
        try:
            await socket.join(room)
            outcome.append(sorted(socket.rooms - {socket.id}))
        except CapExceeded as exc:
            outcome.append(type(exc).__name__)

    async with running(sio) as port:
        peer, _ = await ws_connect_sio(port)
        for room in ("r1", "r2", "r2", "r3"):
            await peer.send(f'42["join","{room}"]')
        await asyncio.sleep(0.2)
    assert outcome == [["r1"], ["r1", "r2"], ["r1", "r2"], "CapExceeded"]


async def test_pending_acks_per_socket_cap() -> None:
    sio = siox.Server(caps=Caps(max_pending_acks=2))
    sockets: list[siox.Socket] = []

    @sio.on("connect")
    def connected(socket: siox.Socket) -> None:
        sockets.append(socket)

    async with running(sio) as port:
        await ws_connect_sio(port)  # a client that never answers
        socket = sockets[0]
        waiting = [asyncio.create_task(socket.emit_with_ack("q", timeout=5)) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(CapExceeded, match="max_pending_acks"):
            await socket.emit_with_ack("q", timeout=5)
        for task in waiting:
            task.cancel()
