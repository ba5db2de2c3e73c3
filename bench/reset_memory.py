"""Whose memory is it: a server's RSS over rounds of "many pending acks, then the client resets".

Each round a raw WebSocket client joins, asks the server (event "go") to send it N events
with an ack (``emit_with_ack``, never answered: the client does not read), waits until the
server has written them, then resets the TCP connection (SO_LINGER 0: an RST). The server runs
in its own process on uvloop or asyncio; after each round it reports its RSS, Python objects
(gc), tracemalloc's current size, malloc's arena figures (mallinfo2) and, with --trim, the RSS
after ``malloc_trim(0)``.

    python bench/reset_memory.py --loop uvloop --rounds 25 --acks 20000 [--trim] [--no-tracemalloc]

Run with MALLOC_ARENA_MAX=2 in the environment to compare arena counts.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import os
import socket
import struct
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _mappings() -> dict[str, float]:
    """Resident MB of the [heap] mapping (malloc's main arena) and of anonymous mappings
    (pymalloc arenas, malloc's mmap chunks, libuv's and other native allocations)."""
    heap = anon = 0
    name = ""
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields[0]) > 8 and not fields[0].endswith(":"):
                name = fields[5] if len(fields) > 5 else ""
            elif fields[0] == "Rss:":
                kb = int(fields[1])
                if name == "[heap]":
                    heap += kb
                elif name == "":
                    anon += kb
    return {"heap_rss_mb": round(heap / 1e3, 1), "anon_rss_mb": round(anon / 1e3, 1)}


def _pymalloc() -> dict[str, float]:
    """pymalloc's arenas (``sys._debugmallocstats``, written to the C stderr: caught on a
    file): those in use now and the MB they map."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()
    figures: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("# arenas allocated current"):
            figures["pymalloc_arenas"] = int(line.split("=")[1].replace(",", ""))
        elif line.startswith("# bytes in allocated blocks"):
            figures["pymalloc_used_mb"] = round(int(line.split("=")[1].replace(",", "")) / 1e6, 1)
        elif line.startswith("Total") and "pymalloc_total_mb" not in figures:
            figures["pymalloc_total_mb"] = round(int(line.split("=")[1].replace(",", "")) / 1e6, 1)
    return figures


def _malloc() -> dict[str, float]:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _Mallinfo2
    info = libc.mallinfo2()
    return {
        "malloc_arena_mb": round(info.arena / 1e6, 1),  # main arena (sbrk) bytes
        "malloc_mmap_mb": round(info.hblkhd / 1e6, 1),
        "malloc_in_use_mb": round(info.uordblks / 1e6, 1),  # all arenas
        "malloc_free_mb": round(info.fordblks / 1e6, 1),
    }


def serve(loop_name: str, trim: bool, traced: bool) -> None:
    """The server process: prints its port, then a JSON line per "stats" line on stdin."""
    import siox

    if loop_name == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if traced:  # (pymalloc's own figures are only there without tracemalloc)
        tracemalloc.start()
    sio = siox.Server(ping_interval=60, ping_timeout=60)
    tasks: set[asyncio.Task[None]] = set()
    written = 0

    async def one(sock: siox.Socket, n: int) -> None:
        nonlocal written
        try:
            await sock.emit_with_ack("x", n, "y" * 64)
        except siox.NotConnected:
            pass

    @sio.on("go")
    def go(sock: siox.Socket, count: int) -> int:
        for n in range(count):
            task = asyncio.get_running_loop().create_task(one(sock, n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return count

    async def main() -> None:
        async with siox.serve(sio, host="127.0.0.1", port=0) as serving:
            print(serving.port, flush=True)
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader()
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
            while await reader.readline():
                for _ in range(50):  # the reset is noticed, the pending acks fail
                    if not tasks and not sio.connections:
                        break
                    await asyncio.sleep(0.1)
                gc.collect()
                stats: dict[str, Any] = {
                    "rss_mb": round(_rss_mb(), 1),
                    "objects": len(gc.get_objects()),
                    "tracemalloc_mb": round(tracemalloc.get_traced_memory()[0] / 1e6, 1)
                    if traced
                    else None,
                    "tasks": len(asyncio.all_tasks()),
                    "connections": len(sio.connections),
                    **_malloc(),
                    **_mappings(),
                    **_pymalloc(),
                }
                if trim:
                    ctypes.CDLL("libc.so.6").malloc_trim(0)
                    stats["rss_after_trim_mb"] = round(_rss_mb(), 1)
                print(json.dumps(stats), flush=True)

    asyncio.run(main())


def _frame(text: str) -> bytes:
    """A masked client text frame (mask 0: the payload unchanged)."""
    data = text.encode()
    size = len(data)
    head = bytes([0x81])
    if size < 126:
        head += bytes([0x80 | size])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    return head + b"\0\0\0\0" + data


def _round(port: int, acks: int) -> None:
    """One client: WebSocket, join "/", ask for ``acks`` events, never read, reset."""
    conn = socket.create_connection(("127.0.0.1", port))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    conn.sendall(
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
        + f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    time.sleep(0.2)
    conn.sendall(_frame("40"))
    time.sleep(0.2)
    conn.sendall(_frame(f'421["go",{acks}]'))
    time.sleep(1.5)  # the server queues its writes (the client reads nothing)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # RST


def drive(loop_name: str, rounds: int, acks: int, trim: bool, traced: bool) -> None:
    flags = (["--trim"] if trim else []) + ([] if traced else ["--no-tracemalloc"])
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", loop_name, *flags],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    try:
        port = int(server.stdout.readline())
        for index in range(rounds + 1):
            if index:
                _round(port, acks)
            server.stdin.write("stats\n")
            server.stdin.flush()
            stats = json.loads(server.stdout.readline())
            print(json.dumps({"loop": loop_name, "round": index, **stats}), flush=True)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loop", default="uvloop", choices=["uvloop", "asyncio"])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--acks", type=int, default=20000)
    parser.add_argument("--trim", action="store_true")
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--serve", choices=["uvloop", "asyncio"])
    options = parser.parse_args()
    if options.serve:
        serve(options.serve, options.trim, not options.no_tracemalloc)
    else:
        drive(options.loop, options.rounds, options.acks, options.trim, not options.no_tracemalloc)
