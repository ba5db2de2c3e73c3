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
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
CONFIGS = HERE.parent / "examples" / "deploy" / "haproxy"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def handshake(port: int) -> tuple[str, str]:
    """A new session through ``port``: its id and the Cookie header to send back ("" if none)."""
    answer = exchange(
        port,
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    cookies = [
        line.split(b":", 1)[1].split(b";")[0].strip().decode()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"set-cookie:")
    ]
    sid: str = json.loads(body[1:])["sid"]
    return sid, f"Cookie: {'; '.join(cookies)}\r\n" if cookies else ""


def post(port: int, sid: str, cookie: str = "") -> float:
    request = (
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n{cookie}"
        "Content-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\n6"
    ).encode()
    started = time.perf_counter()
    answer = exchange(port, request)
    elapsed = time.perf_counter() - started
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    return elapsed


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


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
            command = [sys.executable, str(HERE / "server.py"), "--port", str(port)]
            processes.append(subprocess.Popen([*command, "--workers", "2", "--redis", args.redis]))
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
        for _ in range(100):  # warm-up
            for run in kinds.values():
                run()
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _ in range(args.requests):
            for kind, run in kinds.items():
                times[kind].append(run())
        report = {
            kind: {
                "median_us": round(statistics.median(values) * 1e6, 1),
                "p90_us": round(statistics.quantiles(values, n=10)[-1] * 1e6, 1),
            }
            for kind, values in times.items()
        }
        print(json.dumps({"requests": args.requests, **report}))
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            process.wait(15)


if __name__ == "__main__":
    main()
