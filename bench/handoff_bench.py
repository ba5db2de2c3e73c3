"""What a handed-off polling request costs next to a local one (``workers=2``).

    python bench/handoff_bench.py [--requests 2000] [--redis redis://127.0.0.1:6379]

Starts ``bench/server.py --workers 2``, opens a session on each worker, then tells one worker
to stop accepting (SIGUSR1, as a SIGHUP roll does), so every new connection is accepted by the
other: requests for the first worker's session are all handed over, those for the second's are
all local. It sends POSTs of a noop packet on a new connection each (``Connection: close``),
the two kinds interleaved so machine noise hits both alike, and prints one JSON line: the
median and 90th percentile from connect to the whole answer, per kind, in microseconds.

With ``--redis``, a second "machine" (another ``server.py --workers 2`` on that Redis) holds a
third session, and requests for it sent to the first are forwarded over Redis ("forwarded").
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
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


def handshake(port: int) -> str:
    answer = exchange(
        port,
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    body = answer.partition(b"\r\n\r\n")[2]
    sid: str = json.loads(body[1:])["sid"]
    return sid


def post(port: int, sid: str) -> float:
    request = (
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\n6"
    ).encode()
    started = time.perf_counter()
    answer = exchange(port, request)
    elapsed = time.perf_counter() - started
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    return elapsed


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(item) for item in text.split()]


def start(port: int, redis: str | None) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(HERE / "server.py"), "--port", str(port), "--workers", "2"]
    return subprocess.Popen(command + (["--redis", redis] if redis else []))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--redis", default=None)
    args = parser.parse_args()
    port = free_port()
    server = start(port, args.redis)
    other_port = free_port()
    other = start(other_port, args.redis) if args.redis else None
    try:
        deadline = time.monotonic() + 10
        while len(children(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # both workers serving
        by_index: dict[str, str] = {}
        while len(by_index) < 2 and time.monotonic() < deadline:
            sid = handshake(port)
            by_index.setdefault(sid[0], sid)
        retired = children(server.pid)[0]
        os.kill(retired, signal.SIGUSR1)
        time.sleep(0.3)
        local_index = handshake(port)[0]  # only the other worker accepts now
        remote_index = next(index for index in by_index if index != local_index)
        local, remote = by_index[local_index], by_index[remote_index]
        far = handshake(other_port) if other is not None else ""
        for _ in range(100):  # warm-up
            post(port, local)
            post(port, remote)
            if far:
                post(port, far)
        times: dict[str, list[float]] = {"local": [], "handed_off": []}
        if far:
            times["forwarded"] = []
        for _ in range(args.requests):
            times["local"].append(post(port, local))
            times["handed_off"].append(post(port, remote))
            if far:
                times["forwarded"].append(post(port, far))
        report = {
            kind: {
                "median_us": round(statistics.median(values) * 1e6, 1),
                "p90_us": round(statistics.quantiles(values, n=10)[-1] * 1e6, 1),
            }
            for kind, values in times.items()
        }
        print(json.dumps({"requests": args.requests, **report}))
    finally:
        for process in (server, other):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(15)


if __name__ == "__main__":
    main()
