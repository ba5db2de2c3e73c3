"""Deterministic cost of one acked WebSocket echo on the native server (not a test).

The shared bench's ``echo`` cases, counted instead of timed: C raw WebSocket clients (no siox
code on the client side) connect to a siox server in a child process (``bench/server.py``'s
app on uvloop, run by `handshake_profile`'s ``--serve``), warm up, then each keeps W
``emit("echo", ..., ack)`` in flight until M acks came back. Only that window is measured:

* ``calls``: Python-level function calls in the server (cProfile, builtins included);
* ``callgrind``: instructions executed by the server process (valgrind; ~50x slower, so use a
  few thousand messages);
* ``alloc``: memory blocks still allocated per message afterwards (tracemalloc).

With c1000 w1 (the default) nearly every message arrives in a read of its own, so the per-read
path (data_received, frame reader, session, dispatch, ack, write) dominates, as in the bench's
"echo small c1000 w1" row; ``--payload 1k`` sends one 1024-character string instead::

    .venv/bin/python bench/echo_profile.py --measure calls,callgrind
    .venv/bin/python bench/echo_profile.py --payload 1k --clients 100 --window 10
    .venv/bin/python bench/echo_profile.py --base ../base/src      # A/B, ratios printed

``SIOX_PROFILE_TOP=N`` prints the child's N top functions (see `handshake_profile`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from handshake_profile import Child, Client, _connect_all, _frame

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAYLOADS = {
    "small": '"hello",{"id":42,"user":"alice","ok":true}',
    "1k": json.dumps("x" * 1024),
}


async def _echo(client: Client, count: int, window: int, payload: str) -> None:
    """``count`` acked echoes of ``payload`` on ``client``, at most ``window`` in flight."""
    sent = acked = 0
    while acked < count:
        while sent < count and sent - acked < window:
            client.writer.write(_frame(f'42{sent}["echo",{payload}]'))
            sent += 1
        reply = await client.message()
        if reply.startswith("43"):
            acked += 1


async def _run(args: argparse.Namespace, src: str, mode: str) -> dict[str, float]:
    # No heartbeat in the window (valgrind is slow: idle clients must not time out meanwhile).
    os.environ["SIOX_PROFILE_PING_INTERVAL"] = str(args.ping_interval)
    child = Child(src, mode)
    payload = PAYLOADS[args.payload]
    try:
        clients = await asyncio.wait_for(_connect_all(child.port, args.clients, 100), args.timeout)
        await asyncio.wait_for(
            asyncio.gather(*(_echo(c, 5, args.window, payload) for c in clients)), args.timeout
        )
        share = max(1, args.messages // len(clients))
        child.begin()
        await asyncio.wait_for(
            asyncio.gather(*(_echo(c, share, args.window, payload) for c in clients)),
            args.timeout,
        )
        measured = child.end()
        for client in clients:
            client.close()
    finally:
        child.stop()
    return {key: value / (share * len(clients)) for key, value in measured.items()}


def main() -> None:
    """Parse the options; print the figures per message (and the ratios with ``--base``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=os.path.join(ROOT, "src"), help="the siox tree")
    parser.add_argument("--base", help="a second siox tree (e.g. main's): A/B")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--window", type=int, default=1)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--payload", choices=sorted(PAYLOADS), default="small")
    parser.add_argument("--measure", default="calls", help="calls,callgrind,alloc")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--ping-interval", type=float, default=600.0, help="seconds")
    args = parser.parse_args()
    trees = {"this": args.src} | ({"base": args.base} if args.base else {})
    results: dict[str, dict[str, float]] = {name: {} for name in trees}
    started = time.perf_counter()
    for mode in args.measure.split(","):
        for name, src in trees.items():
            results[name].update(asyncio.run(_run(args, src, mode)))
    print(
        f"echo {args.payload} c{args.clients} w{args.window}, {args.messages} messages "
        f"({time.perf_counter() - started:.0f} s), per message:"
    )
    for key, value in results["this"].items():
        line = f"  {key:14} {value:12.1f}"
        if "base" in results:
            base = results["base"][key]
            line += f"   base {base:12.1f}   this/base {value / base if base else 0:.3f}"
        print(line)


if __name__ == "__main__":
    main()
