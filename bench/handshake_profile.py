"""Deterministic cost of a connection and of an acked echo on the siox server (not a test).

A siox server runs in a child process (uvloop when installed, as ``bench/server.py``: "echo"
acks its arguments); this process drives it with a raw WebSocket client (no siox code on the
client side): N handshakes (WebSocket upgrade, Engine.IO open, Socket.IO CONNECT to "/"), at
most 100 in flight, the connections kept open; then M acked ``echo`` events on the WebSocket
(100 clients, 10 in flight each, the shared bench's small payload). The child measures only
the window of each phase:

* ``calls``: Python-level function calls (cProfile, builtins included) per handshake / message;
* ``alloc``: memory blocks and bytes still allocated (tracemalloc, after ``gc.collect()``) per
  connection after the connect phase, and per message after the echo phase; ``gc_tracked``:
  the growth of the objects the garbage collector tracks (what a full collection walks);
* ``callgrind``: instructions executed by the server process (valgrind callgrind, counters
  zeroed at the start of the window and dumped at its end) per handshake / message;
* ``rss``: the server's VmRSS growth 1 s after the last connect, divided by N;
* ``cpu``: the server's user and system CPU time (getrusage) per handshake / message: the
  system part is mostly the loopback TCP work of its writes (timed, so noisier than the rest).

Comparing two trees (``--src`` another checkout's ``src``) gives A/B ratios from one run:

    .venv/bin/python bench/handshake_profile.py --measure calls,alloc,rss
    .venv/bin/python bench/handshake_profile.py --src ../other/src --measure calls
    .venv/bin/python bench/handshake_profile.py --measure callgrind --connections 300

Every phase is bounded (``--timeout`` seconds); the child is stopped by its PID. To see where
it goes, the child prints to stderr: ``SIOX_PROFILE_TOP=N`` the N top functions (``calls``;
order ``SIOX_PROFILE_SORT``, default ncalls; callers of ``SIOX_PROFILE_CALLERS``) or the N
top allocation sites (``alloc``; ``SIOX_PROFILE_FRAMES`` frames deep); ``SIOX_CALLGRIND_KEEP=FILE``
keeps each window's callgrind dump (``callgrind_annotate FILE.1``: the first window).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import inspect
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SMALL = '["echo","hello",{"id":42,"user":"alice","ok":true}]'
KEY = base64.b64encode(b"siox-handshake!!").decode()

# -- the server (child process) -------------------------------------------------------------------


def _serve(mode: str) -> None:
    """Serve on a free port; print it; obey "begin"/"end" lines on stdin (the measure window)."""
    import gc

    import siox

    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    ping = float(os.environ.get("SIOX_PROFILE_PING_INTERVAL", "25"))  # (bench/echo_profile.py)
    sio = siox.Server(
        cors_allowed_origins="*", max_http_buffer_size=100_000_000, ping_interval=ping
    )

    @sio.on("echo")
    def echo(socket: Any, *args: object) -> tuple[object, ...]:
        return args

    def rss_kib() -> int:
        with open(f"/proc/{os.getpid()}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with siox.serve(sio, host="127.0.0.1", port=0) as serving:
            state: dict[str, Any] = {}
            done = asyncio.Event()

            def command() -> None:
                line = sys.stdin.readline().strip()
                if not line or line == "quit":
                    loop.remove_reader(sys.stdin.fileno())
                    done.set()
                elif line == "begin":
                    gc.collect()
                    if mode == "calls":
                        import cProfile

                        state["profile"] = cProfile.Profile()
                        state["profile"].enable()
                    elif mode == "alloc":
                        import tracemalloc

                        tracemalloc.start(int(os.environ.get("SIOX_PROFILE_FRAMES", "1")))
                        state["before"] = tracemalloc.take_snapshot()
                        state["before_snapshot"] = state["before"]
                        state["gc"] = len(gc.get_objects())
                        if os.environ.get("SIOX_PROFILE_TOP"):
                            state["gc_ids"] = {id(o) for o in gc.get_objects()}
                    elif mode == "rss":
                        state["rss"] = rss_kib()
                    elif mode == "cpu":
                        state["cpu"] = resource.getrusage(resource.RUSAGE_SELF)
                    print("ok", flush=True)
                elif line == "end":
                    result: dict[str, Any] = {}
                    if mode == "calls":
                        import pstats

                        state["profile"].disable()
                        stats = pstats.Stats(state.pop("profile"))
                        result["calls"] = stats.total_calls  # type: ignore[attr-defined]
                        top = int(os.environ.get("SIOX_PROFILE_TOP", "0"))
                        if top:
                            stats.stream = sys.stderr  # type: ignore[attr-defined]
                            order = os.environ.get("SIOX_PROFILE_SORT", "ncalls")
                            stats.sort_stats(order).print_stats(top)
                            callers = os.environ.get("SIOX_PROFILE_CALLERS")
                            if callers:
                                stats.print_callers(callers)
                    elif mode == "alloc":
                        import tracemalloc

                        gc.collect()
                        after = tracemalloc.take_snapshot()
                        diff = after.compare_to(state.pop("before"), "filename")
                        result["blocks"] = sum(d.count_diff for d in diff)
                        result["bytes"] = sum(d.size_diff for d in diff)
                        result["gc_tracked"] = len(gc.get_objects()) - state.pop("gc")
                        top = int(os.environ.get("SIOX_PROFILE_TOP", "0"))
                        if top:
                            lines = after.compare_to(state["before_snapshot"], "lineno")
                            for stat in lines[:top]:
                                print(stat, file=sys.stderr)
                            import collections

                            seen = state.pop("gc_ids")

                            def kind(o: Any) -> str:  # a bound method: whose
                                if inspect.ismethod(o):
                                    return f"method {o.__func__.__qualname__}"
                                return str(type(o).__qualname__)

                            kinds = collections.Counter(
                                kind(o) for o in gc.get_objects() if id(o) not in seen
                            )
                            print("gc-tracked, new:", kinds.most_common(top), file=sys.stderr)
                        tracemalloc.stop()
                    elif mode == "rss":
                        result["rss_kib"] = rss_kib() - state.pop("rss")
                    elif mode == "cpu":  # microseconds of CPU time, the kernel's part apart
                        usage, before = resource.getrusage(resource.RUSAGE_SELF), state.pop("cpu")
                        result["user_us"] = (usage.ru_utime - before.ru_utime) * 1e6
                        result["system_us"] = (usage.ru_stime - before.ru_stime) * 1e6
                    print(json.dumps(result), flush=True)

            loop.add_reader(sys.stdin.fileno(), command)
            print(json.dumps({"port": serving.port}), flush=True)
            await done.wait()

    asyncio.run(main())


# -- the raw client (this process) ----------------------------------------------------------------


def _frame(text: str) -> bytes:
    """A masked client text frame (all-zero mask, which RFC 6455 allows)."""
    data = text.encode()
    n = len(data)
    length = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return b"\x81" + length + b"\0\0\0\0" + data


class Client:
    """One raw WebSocket connection speaking just enough Engine.IO/Socket.IO."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.buffer = b""
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(head.decode("latin-1").splitlines()[0])
        opened = await self.message()
        if not opened.startswith("0{"):
            raise RuntimeError(f"no Engine.IO open: {opened!r}")
        self.writer.write(_frame("40"))
        while not (await self.message()).startswith("40"):
            pass

    async def message(self) -> str:
        """The next text message from the server (answering pings)."""
        while True:
            head = await self.reader.readexactly(2)
            n = head[1] & 0x7F
            if n == 126:
                n = int.from_bytes(await self.reader.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await self.reader.readexactly(8), "big")
            text = (await self.reader.readexactly(n)).decode()
            if text == "2":
                self.writer.write(_frame("3"))
                continue
            return text

    async def echo(self, count: int, window: int) -> None:
        """``count`` acked echoes, at most ``window`` in flight."""
        sent = acked = 0
        while acked < count:
            while sent < count and sent - acked < window:
                self.writer.write(_frame(f"42{sent}{SMALL}"))
                sent += 1
            reply = await self.message()
            if reply.startswith("43"):
                acked += 1

    def close(self) -> None:
        self.writer.close()


async def _connect_all(port: int, n: int, concurrency: int) -> list[Client]:
    clients = [Client(port) for _ in range(n)]
    gate = asyncio.Semaphore(concurrency)

    async def one(client: Client) -> None:
        async with gate:
            await client.connect()

    await asyncio.gather(*(one(client) for client in clients))
    return clients


class Child:
    """The server process and its measure window."""

    def __init__(self, src: str, mode: str) -> None:
        env = dict(os.environ, PYTHONPATH=src)
        command = [sys.executable, os.path.abspath(__file__), "--serve", mode]
        if mode == "callgrind":
            self.dumps = tempfile.mkdtemp(prefix="siox-callgrind-")
            command = [
                "valgrind", "--tool=callgrind",
                f"--callgrind-out-file={os.path.join(self.dumps, 'out')}", *command,
            ]  # fmt: skip
        self.mode = mode
        self.kept = 0
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=None if os.environ.get("SIOX_PROFILE_TOP") else subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.port = json.loads(self._line())["port"]

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the server process ended")
        return line

    def _send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def begin(self) -> None:
        self._send("begin")
        self._line()
        if self.mode == "callgrind":
            subprocess.run(["callgrind_control", "-z", str(self.process.pid)], check=True,
                           capture_output=True)  # fmt: skip

    def end(self) -> dict[str, Any]:
        if self.mode == "callgrind":
            return {"instructions": self._instructions()}
        self._send("end")
        return dict(json.loads(self._line()))

    def _instructions(self) -> int:
        """The instructions since the counters were zeroed (a dump's ``totals`` line)."""
        before = set(os.listdir(self.dumps))
        subprocess.run(["callgrind_control", "-d", str(self.process.pid)], check=True,
                       capture_output=True)  # fmt: skip
        for _ in range(600):  # the dump is written by the server process: wait for it
            fresh = sorted(set(os.listdir(self.dumps)) - before)
            if fresh:
                dumped = os.path.join(self.dumps, fresh[-1])
                keep = os.environ.get("SIOX_CALLGRIND_KEEP")
                if keep:  # for callgrind_annotate: FILE.1 the first window (connect), FILE.2...
                    self.kept += 1
                    shutil.copy(dumped, f"{keep}.{self.kept}")
                with open(dumped) as dump:
                    for line in dump:
                        if line.startswith(("totals:", "summary:")):
                            return int(line.split()[1])
            time.sleep(0.1)
        raise RuntimeError("no callgrind dump")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._send("quit")
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.mode == "callgrind":
            shutil.rmtree(self.dumps, ignore_errors=True)


async def _run(args: argparse.Namespace, mode: str) -> dict[str, float]:
    child = Child(args.src, mode)
    result: dict[str, float] = {}
    try:
        warm = await asyncio.wait_for(_connect_all(child.port, 50, 50), args.timeout)
        await asyncio.wait_for(warm[0].echo(200, 10), args.timeout)
        child.begin()
        clients = await asyncio.wait_for(
            _connect_all(child.port, args.connections, 100), args.timeout
        )
        if mode == "rss":
            await asyncio.sleep(1.0)
        measured = child.end()
        for key, value in measured.items():
            result[f"per connect: {key}"] = value / args.connections
        if mode != "rss" and args.messages:
            senders = clients[:100]
            share = max(1, args.messages // len(senders))
            child.begin()
            await asyncio.wait_for(
                asyncio.gather(*(client.echo(share, 10) for client in senders)), args.timeout
            )
            measured = child.end()
            for key, value in measured.items():
                result[f"per echo: {key}"] = value / (share * len(senders))
        for client in (*warm, *clients):
            client.close()
    finally:
        child.stop()
    return result


def main() -> None:
    """Parse the options and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=os.path.join(ROOT, "src"), help="the siox tree to measure")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--measure", default="calls,alloc", help="calls,alloc,callgrind,rss,cpu")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve)
        return
    results: dict[str, float] = {}
    started = time.perf_counter()
    for mode in args.measure.split(","):
        results.update(asyncio.run(_run(args, mode)))
    if args.json:
        print(json.dumps(results))
        return
    print(f"siox tree: {args.src} ({time.perf_counter() - started:.0f} s)")
    for key, value in results.items():
        print(f"  {key:28} {value:12.1f}")


if __name__ == "__main__":
    main()
