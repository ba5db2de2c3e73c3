"""Polling requests through HAProxy: sticky cookie vs round-robin with forwarding over Redis.

    python bench/balancer_bench.py [--requests 1000] [--redis redis://127.0.0.1:6379]

Starts two "machines" (``bench/server.py --workers 2 --redis URL``) and Debian's haproxy twice,
with examples/deploy/haproxy/sticky.cfg and round-robin.cfg in front of both. Each setup gets
one session (the sticky one keeps the balancer's cookie, so all its requests reach the owning
machine; the round-robin one alternates between the machines, so every other request is
forwarded over Redis). Also, without a balancer: the same POSTs sent straight to the owning
machine and to the other one. Each request is a POST of a noop packet on a new connection
(``Connection: close``); the kinds are interleaved so machine noise hits them alike. Prints one
JSON line: median and 90th percentile from connect to the whole answer, in microseconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import time

from polling_probe import HERE, HOST, compare, free_port, handshake, post, start_server, wait_port

CONFIGS = HERE.parent / "examples" / "deploy" / "haproxy"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    args = parser.parse_args()
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    machines = [free_port(), free_port()]
    balancers = {"sticky": free_port(), "round_robin": free_port()}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for port in machines:
            processes.append(start_server(port, 2, args.redis))
        for port in machines:
            wait_port(port)
        time.sleep(2.0)  # every worker up and subscribed on Redis (haproxy checks them at once)
        for name, port in balancers.items():
            env = {
                **os.environ,
                "SIOX_BIND": f"{HOST}:{port}",
                "SIOX_MACHINE_1": f"{HOST}:{machines[0]}",
                "SIOX_MACHINE_2": f"{HOST}:{machines[1]}",
            }
            config = CONFIGS / f"{name.replace('_', '-')}.cfg"
            processes.append(subprocess.Popen([haproxy, "-db", "-f", str(config)], env=env))
        for port in balancers.values():
            wait_port(port)
        sticky_sid, cookie = handshake(balancers["sticky"])
        assert cookie, "the sticky config set no cookie"
        robin_sid, _ = handshake(balancers["round_robin"])
        direct_sid, _ = handshake(machines[0])
        kinds = {
            "direct_owner": lambda: post(machines[0], direct_sid),
            "direct_forwarded": lambda: post(machines[1], direct_sid),
            "haproxy_sticky": lambda: post(balancers["sticky"], sticky_sid, cookie),
            # two requests in a row: one reaches each machine (one of them is forwarded)
            "haproxy_round_robin_a": lambda: post(balancers["round_robin"], robin_sid),
            "haproxy_round_robin_b": lambda: post(balancers["round_robin"], robin_sid),
        }
        compare(kinds, args.requests)
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            process.wait(15)


if __name__ == "__main__":
    main()
