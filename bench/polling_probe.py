"""Timed polling POSTs on fresh connections, shared by handoff_bench.py and balancer_bench.py.

Each request is a POST of a noop packet for one session, on a new TCP connection
(``Connection: close``), timed from connect to the whole answer. ``compare`` interleaves the
kinds of request so that machine noise hits them alike, and reports the median and the 90th
percentile of each kind in microseconds.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent


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
    """Seconds from connect to the whole answer of one noop POST for session ``sid``."""
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


def start_server(port: int, workers: int, redis: str | None) -> subprocess.Popen[bytes]:
    """bench/server.py on ``port`` with ``workers`` processes (on a Redis cluster if given)."""
    command = [sys.executable, str(HERE / "server.py"), "--port", str(port)]
    command += ["--workers", str(workers), *(["--redis", redis] if redis else [])]
    return subprocess.Popen(command)


def compare(kinds: dict[str, Callable[[], float]], requests: int) -> None:
    """Warms up, times ``requests`` rounds of every kind, prints one JSON line."""
    for _ in range(100):
        for run in kinds.values():
            run()
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(requests):
        for kind, run in kinds.items():
            times[kind].append(run())
    report = {
        kind: {
            "median_us": round(statistics.median(values) * 1e6, 1),
            "p90_us": round(statistics.quantiles(values, n=10)[-1] * 1e6, 1),
        }
        for kind, values in times.items()
    }
    print(json.dumps({"requests": requests, **report}))
