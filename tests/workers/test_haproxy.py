"""Debian's haproxy with the committed configs (examples/deploy/haproxy) in front of two siox
"machines" (two ``workers=2`` processes), driven by socket.io-client@4 (Node) and siox's client.

round-robin.cfg: no stickiness; the machines share Redis, so a request for another machine's
session is forwarded to its owner. sticky.cfg: a cookie pins each client to one machine, so the
machines need no Redis at all, and WebSocket upgrades pass through.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cluster.redis_server import find_or_start_redis
from siox.options import EngineOptions
from siox.workers.ids import node_of
from workers.balancers import (
    DEPLOY_DIR,
    Haproxy,
    balancer_marks,
    clients_scenario,
    echoes,
    haproxy_binary,
    standalone_machines_behind,
    wait_cluster,
)
from workers.procs import WorkersServer

pytestmark = balancer_marks(haproxy_binary(), "haproxy")


def total(stats: list[dict[str, Any]], key: str) -> int:
    return sum(item[key] for item in stats)


@pytest.fixture(scope="module")
def redis_machines() -> Iterator[list[WorkersServer]]:
    """Two ``workers=2`` machines on one Redis: one cluster of four workers."""
    url, started = find_or_start_redis()
    key = f"siox-test-haproxy-{uuid.uuid4().hex[:12]}"
    machines = [WorkersServer(2, url, key).start(), WorkersServer(2, url, key).start()]
    try:
        asyncio.run(wait_cluster(machines, 4))
        yield machines
    finally:
        for machine in machines:
            machine.stop()
        if started is not None:
            started.stop()


@pytest.fixture(scope="module")
def round_robin(redis_machines: list[WorkersServer]) -> Iterator[Haproxy]:
    balancer = Haproxy("round-robin.cfg", [machine.port for machine in redis_machines]).start()
    try:
        yield balancer
    finally:
        balancer.stop()


@pytest.fixture(scope="module")
def sticky() -> Iterator[tuple[Haproxy, list[set[int]]]]:
    """sticky.cfg in front of two machines that know nothing of each other (no Redis)."""
    with standalone_machines_behind(lambda ports: Haproxy("sticky.cfg", ports)) as found:
        balancer, _, pids = found
        yield balancer, pids


async def test_round_robin_polling_sessions_work_with_requests_forwarded_between_machines(
    redis_machines: list[WorkersServer], round_robin: Haproxy
) -> None:
    before = await redis_machines[0].stats()
    result = await asyncio.to_thread(clients_scenario, round_robin.url, "polling", 4, False)
    after = await redis_machines[0].stats()
    assert [client["transport"] for client in result] == ["polling"] * 4
    nodes = {item["node"] for item in after}
    assert len(nodes) == 2
    assert {node_of(client["sid"]) for client in result} <= nodes
    # every request goes to the next machine: about half reached the wrong one and were
    # forwarded over Redis to the session's owner (4 clients x 50 round trips)
    assert total(after, "forwarded_out") - total(before, "forwarded_out") >= 50
    assert total(after, "forwarded_in") - total(before, "forwarded_in") >= 50


async def test_round_robin_room_broadcasts_acks_and_fetch_sockets_reach_every_client(
    round_robin: Haproxy,
) -> None:
    result = await asyncio.to_thread(clients_scenario, round_robin.url, "room", 4, False)
    # sessions owned by both machines (the scenario adds clients until they are)
    assert len({node_of(client["sid"]) for client in result["clients"]}) == 2
    assert result["news"] == ["hello"] * len(result["ids"])
    assert result["replies"] == result["ids"]
    assert result["fetched"] == result["ids"]


async def test_round_robin_clients_allowed_to_upgrade_keep_working_polling_or_not(
    round_robin: Haproxy,
) -> None:
    # An upgrade landing on another machine than the owner is refused: that client stays on
    # polling; one landing on the owner upgrades. Every client keeps working either way.
    result = await asyncio.to_thread(clients_scenario, round_robin.url, "upgrade", 4, False)
    assert {client["transport"] for client in result} <= {"polling", "websocket"}
    assert len(result) == 4


async def test_round_robin_serves_siox_s_client(round_robin: Haproxy) -> None:
    assert await echoes(round_robin.url, ["polling"], 30) == "polling"
    assert await echoes(round_robin.url, ["polling", "websocket"], 10) in {"polling", "websocket"}


async def test_sticky_cookie_keeps_each_polling_session_on_its_machine(
    sticky: tuple[Haproxy, list[set[int]]],
) -> None:
    balancer, pids = sticky
    result = await asyncio.to_thread(clients_scenario, balancer.url, "polling", 4, True)
    assert [client["transport"] for client in result] == ["polling"] * 4
    # new clients alternate between the machines; each then stays on its own
    served = {client["pid"] for client in result}
    assert served & pids[0] and served & pids[1]


async def test_without_the_cookie_the_sticky_setup_loses_sessions(
    sticky: tuple[Haproxy, list[set[int]]],
) -> None:
    # the control: clients that drop the cookie hit the machine that does not know them
    balancer, _ = sticky
    with pytest.raises(AssertionError, match=r"xhr (poll|post) error|Session ID unknown"):
        await asyncio.to_thread(clients_scenario, balancer.url, "polling", 4, False)


async def test_sticky_upgrades_pass_through_to_websocket(
    sticky: tuple[Haproxy, list[set[int]]],
) -> None:
    balancer, pids = sticky
    result = await asyncio.to_thread(clients_scenario, balancer.url, "upgrade", 4, True)
    assert [client["transport"] for client in result] == ["websocket"] * 4
    served = {client["pid"] for client in result}
    assert served & pids[0] and served & pids[1]


async def test_sticky_serves_siox_s_client_which_keeps_the_cookie(
    sticky: tuple[Haproxy, list[set[int]]],
) -> None:
    balancer, _ = sticky
    assert await echoes(balancer.url, ["polling"], 30) == "polling"
    assert await echoes(balancer.url, ["polling", "websocket"], 10) == "websocket"


@pytest.mark.parametrize("config", ["round-robin.cfg", "sticky.cfg"])
def test_haproxy_timeouts_outlast_a_long_poll_and_a_websocket_ping(config: str) -> None:
    text = (DEPLOY_DIR / "haproxy" / config).read_text()
    unit = {"s": 1, "m": 60, "h": 3600}
    seconds = {
        name: int(value) * unit[suffix]
        for name, value, suffix in re.findall(
            r"^\s*timeout (\S+) (\d+)([smh])$", text, flags=re.MULTILINE
        )
    }
    defaults = EngineOptions()
    # a long-polling GET is held up to ping_interval; a client is declared gone after
    # ping_interval + ping_timeout: the proxy must not cut either first
    assert seconds["server"] > defaults.ping_interval + defaults.ping_timeout
    assert seconds["client"] > defaults.ping_interval + defaults.ping_timeout
    assert seconds["tunnel"] > defaults.ping_interval + defaults.ping_timeout


@pytest.mark.parametrize("config", ["round-robin.cfg", "sticky.cfg"])
def test_the_committed_configs_are_valid_as_they_stand(config: str) -> None:
    # with no environment, the defaults written in the file (10.0.0.x) are used
    binary = haproxy_binary()
    assert binary is not None
    done = subprocess.run(
        [binary, "-c", "-f", str(DEPLOY_DIR / "haproxy" / config)],
        capture_output=True, timeout=10, check=False, env={"PATH": "/usr/sbin:/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
