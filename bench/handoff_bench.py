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
import os
import signal
import time
from pathlib import Path

from polling_probe import compare, free_port, handshake, post, start_server


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(item) for item in text.split()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--redis", default=None)
    args = parser.parse_args()
    port = free_port()
    server = start_server(port, 2, args.redis)
    other_port = free_port()
    other = start_server(other_port, 2, args.redis) if args.redis else None
    try:
        deadline = time.monotonic() + 10
        while len(children(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # both workers serving
        by_index: dict[str, str] = {}
        while len(by_index) < 2 and time.monotonic() < deadline:
            sid, _ = handshake(port)
            by_index.setdefault(sid[0], sid)
        retired = children(server.pid)[0]
        os.kill(retired, signal.SIGUSR1)
        time.sleep(0.3)
        local_index = handshake(port)[0][0]  # only the other worker accepts now
        remote_index = next(index for index in by_index if index != local_index)
        local, remote = by_index[local_index], by_index[remote_index]
        far = handshake(other_port)[0] if other is not None else ""
        kinds = {"local": lambda: post(port, local), "handed_off": lambda: post(port, remote)}
        if far:
            kinds["forwarded"] = lambda: post(port, far)
        compare(kinds, args.requests)
    finally:
        for process in (server, other):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(15)


if __name__ == "__main__":
    main()
