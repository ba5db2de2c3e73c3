"""Debian's nginx with the committed config (examples/deploy/nginx/siox.conf: ``ip_hash``) in
front of two siox "machines" (two ``workers=2`` processes that know nothing of each other, no
Redis), driven by socket.io-client@4 (Node), siox's client and raw requests from several
client addresses (127.0.N.1: ip_hash keys IPv4 clients on their first three octets).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator

import pytest

from siox.options import EngineOptions
from workers.balancers import (
    DEPLOY_DIR,
    Nginx,
    balancer_marks,
    clients_scenario,
    echoes,
    nginx_binary,
    standalone_machines_behind,
)
from workers.procs import HOST, WorkersServer

pytestmark = balancer_marks(nginx_binary(), "nginx")


@pytest.fixture(scope="module")
def sticky() -> Iterator[tuple[Nginx, list[WorkersServer], list[set[int]]]]:
    with standalone_machines_behind(lambda ports: Nginx("siox.conf", ports)) as found:
        yield found


def request(port: int, head: str, body: str = "", source: str = HOST) -> tuple[int, bytes]:
    """One request on a new connection from address ``source``: status and body."""
    with socket.create_connection((HOST, port), timeout=5, source_address=(source, 0)) as sock:
        sock.sendall(f"{head}Connection: close\r\n\r\n{body}".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    answer_head, _, answer_body = data.partition(b"\r\n\r\n")
    return int(answer_head.split()[1]), answer_body


def handshake(port: int, source: str) -> str:
    status, body = request(
        port, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n", source=source
    )
    assert status == 200, body
    sid: str = json.loads(body[1:])["sid"]
    return sid


def noop(port: int, sid: str, source: str = HOST) -> int:
    """POST a noop packet to session ``sid``: 200, or 400 where the session is unknown."""
    head = (
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: text/plain\r\nContent-Length: 1\r\n"
    )
    return request(port, head, "6", source)[0]


async def test_ip_hash_keeps_each_client_address_on_one_machine(
    sticky: tuple[Nginx, list[WorkersServer], list[set[int]]],
) -> None:
    balancer, machines, _ = sticky

    def run() -> list[int]:
        owners = []
        for n in range(12):
            source = f"127.0.{n}.1"
            sid = handshake(balancer.port, source)
            # every request of that address reaches the machine holding its session
            assert [noop(balancer.port, sid, source) for _ in range(10)] == [200] * 10
            known = [noop(machine.port, sid) == 200 for machine in machines]
            assert known.count(True) == 1, known
            owners.append(known.index(True))
        return owners

    # twelve addresses are spread over both machines, each kept on its own
    assert set(await asyncio.to_thread(run)) == {0, 1}


async def test_polling_clients_work_through_nginx(
    sticky: tuple[Nginx, list[WorkersServer], list[set[int]]],
) -> None:
    balancer, _, pids = sticky
    result = await asyncio.to_thread(clients_scenario, balancer.url, "polling", 4, False)
    assert [client["transport"] for client in result] == ["polling"] * 4
    served = {client["pid"] for client in result}
    assert served <= pids[0] or served <= pids[1]  # one address: one machine


async def test_upgrades_pass_through_nginx_to_websocket(
    sticky: tuple[Nginx, list[WorkersServer], list[set[int]]],
) -> None:
    balancer, _, _ = sticky
    result = await asyncio.to_thread(clients_scenario, balancer.url, "upgrade", 4, False)
    assert [client["transport"] for client in result] == ["websocket"] * 4


async def test_siox_s_client_polls_and_upgrades_through_nginx(
    sticky: tuple[Nginx, list[WorkersServer], list[set[int]]],
) -> None:
    balancer, _, _ = sticky
    assert await echoes(balancer.url, ["polling"], 30) == "polling"
    assert await echoes(balancer.url, ["polling", "websocket"], 10) == "websocket"


def test_nginx_timeouts_outlast_a_long_poll_and_a_websocket_ping() -> None:
    text = (DEPLOY_DIR / "nginx" / "siox.conf").read_text()
    found = dict(re.findall(r"^\s*proxy_(read|send)_timeout (\d+)s;$", text, flags=re.MULTILINE))
    defaults = EngineOptions()
    assert int(found["read"]) > defaults.ping_interval + defaults.ping_timeout
    assert int(found["send"]) > defaults.ping_interval + defaults.ping_timeout
