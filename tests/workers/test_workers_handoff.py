"""Handoffs between workers under bad input: forged session ids, connections cut half-way."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import time
from collections.abc import Callable
from urllib.parse import quote

import pytest

from siox.workers.ids import ALPHABET
from workers.procs import WorkersServer, exchange, get, open_fds

pytestmark = pytest.mark.timeout(60)

HOST = "127.0.0.1"


def handshake(port: int) -> str:
    status, body = exchange(port, get("", port).replace(b"&sid=", b""))
    assert status == 200, body
    sid: str = json.loads(body[1:])["sid"]
    return sid


async def test_a_forged_sid_gets_the_400_of_an_unknown_session_on_every_worker(
    server: WorkersServer,
) -> None:
    before = await server.wait_workers()
    port = server.port
    forged = [
        "A" + secrets.token_urlsafe(15)[1:],  # worker 0's shape, no such session
        "B" + secrets.token_urlsafe(15)[1:],  # worker 1's
        "Z" + secrets.token_urlsafe(15)[1:],  # index 25: no such worker
        ALPHABET[-1] * 20,
        "short",
    ]
    answers = {exchange(port, get(sid, port)) for sid in forged for _ in range(8)}
    post = (
        f"POST /socket.io/?EIO=4&transport=polling&sid={forged[1]} HTTP/1.1\r\n"
        f"Host: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n40"
    ).encode()
    answers |= {exchange(port, post) for _ in range(8)}
    assert answers == {(400, b'{"code":1,"message":"Session ID unknown"}')}
    after = await server.stats()
    # requests landing on the other worker were handed over (and refused by their "owner")
    assert sum(a["handed_out"] - b["handed_out"] for b, a in zip(before, after, strict=True)) > 0


async def test_handed_off_connections_that_close_half_way_leak_no_descriptor(
    server: WorkersServer,
) -> None:
    stats = await server.wait_workers()
    port = server.port
    sids = {0: "", 1: ""}
    for _ in range(40):
        sid = handshake(port)
        sids[ALPHABET.index(sid[0]) % 2] = sid
        if all(sids.values()):
            break
    assert all(sids.values())
    pids = [item["pid"] for item in stats]
    await asyncio.sleep(0.3)
    baseline = {pid: open_fds(pid) for pid in pids}
    cuts: list[Callable[[str], bytes]] = [
        # a long-polling GET, then the client goes away
        lambda sid: get(sid, port).replace(b"Connection: close\r\n", b""),
        # a POST whose body never finishes
        lambda sid: (
            f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
            "Content-Length: 100\r\n\r\n4hel"
        ).encode(),
        # a head cut short
        lambda sid: f"GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHo".encode(),
        # a WebSocket upgrade, then nothing
        lambda sid: (
            f"GET /socket.io/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\nHost: x\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ).encode(),
    ]
    before = await server.stats()
    for round_ in range(10):
        for cut in cuts:
            for sid in sids.values():
                with socket.create_connection((HOST, port), timeout=5) as sock:
                    sock.sendall(cut(sid))
                    if round_ % 2:
                        await asyncio.sleep(0.002)  # sometimes the handoff is done first
    after = await server.stats()
    assert sum(a["handed_in"] - b["handed_in"] for b, a in zip(before, after, strict=True)) > 0
    deadline = time.monotonic() + 8
    while True:
        now = {pid: open_fds(pid) for pid in pids}
        if now == baseline or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert now == baseline


def jsonp_get(sid: str) -> bytes:
    return (
        f"GET /socket.io/?EIO=3&transport=polling&j=0&sid={sid} HTTP/1.1\r\n"
        "Host: x\r\nConnection: close\r\n\r\n"
    ).encode()


def jsonp_post(sid: str, payload: str) -> bytes:
    body = "d=" + quote(payload, safe="")
    return (
        f"POST /socket.io/?EIO=3&transport=polling&j=0&sid={sid} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}"
    ).encode()


async def test_jsonp_sessions_of_both_workers_work_whatever_worker_accepts(
    server: WorkersServer,
) -> None:
    before = await server.wait_workers()
    port = server.port
    sids: dict[int, str] = {}
    for _ in range(40):
        status, body = exchange(port, jsonp_get("").replace(b"&sid=", b""))
        assert status == 200 and body.startswith(b"___eio[0]("), body
        sid = body.decode().split('\\"sid\\":\\"')[1].split('\\"')[0]
        sids.setdefault(ALPHABET.index(sid[0]), sid)
        if len(sids) == 2:
            break
    assert sorted(sids) == [0, 1]
    for sid in sids.values():
        status, body = exchange(port, jsonp_get(sid))  # the socket.io CONNECT of a v2 server
        assert (status, body) == (200, b'___eio[0]("2:40");')
        for _ in range(10):  # new connections: they land on either worker
            assert exchange(port, jsonp_post(sid, "1:2")) == (200, b"ok")  # ping
            assert exchange(port, jsonp_get(sid)) == (200, b'___eio[0]("1:3");')  # pong
    after = await server.stats()
    assert sum(a["handed_in"] - b["handed_in"] for b, a in zip(before, after, strict=True)) > 0


async def test_a_bare_engine_server_runs_under_workers_too() -> None:
    server = WorkersServer(2, "engine").start()
    try:
        port = server.port
        sids: dict[int, str] = {}
        deadline = time.monotonic() + 10
        while len(sids) < 2:
            assert time.monotonic() < deadline, server.output()
            try:
                sid = handshake(port)
            except (OSError, IndexError):
                await asyncio.sleep(0.1)
                continue
            sids.setdefault(ALPHABET.index(sid[0]), sid)
        for index, sid in sids.items():
            for number in range(10):  # new connections: they land on either worker
                post = (
                    f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
                    f"Content-Length: 4\r\nConnection: close\r\n\r\n4hi{number}"
                ).encode()
                assert exchange(port, post) == (200, b"ok")
                # the message reached the owner's handler, whatever worker accepted it
                assert exchange(port, get(sid, port)) == (200, f"4{index}:hi{number}".encode())
    finally:
        server.stop()


async def test_a_body_still_arriving_when_the_connection_is_handed_over_reaches_the_owner(
    server: WorkersServer,
) -> None:
    before = await server.wait_workers()
    port = server.port
    sids: dict[int, str] = {}
    for _ in range(40):
        sid = handshake(port)
        sids.setdefault(ALPHABET.index(sid[0]), sid)
        if len(sids) == 2:
            break
    for sid in sids.values():
        for _ in range(8):  # new connections: about half of them are handed over
            with socket.create_connection((HOST, port), timeout=5) as sock:
                sock.sendall(
                    f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: 3\r\nConnection: close\r\n\r\n6\x1e".encode()
                )
                await asyncio.sleep(0.02)  # the head (and a part of the body) is read first
                sock.sendall(b"6")
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"\r\n\r\nok"), answer
    after = await server.stats()
    assert sum(a["handed_in"] - b["handed_in"] for b, a in zip(before, after, strict=True)) > 0
