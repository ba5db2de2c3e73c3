"""Long-polling cost per acked message on the native server: calls, instructions, allocations.

A deterministic-measure driver (not a test). The server runs in a subprocess (the echo server
of ``bench/server.py``: ``"echo"`` acks its arguments, on uvloop when installed); this process
runs N raw keep-alive HTTP/1.1 clients that never upgrade, each with one GET always pending and
at most one POST in flight (two TCP connections per client, queued packets batched with
``\\x1e``), keeping W ``emit("echo", "hello", {...}, ack)`` in flight - what the shared
benchmark's polling scenario does. After a warm-up, M acked messages are measured::

    .venv/bin/python bench/polling_profile.py [--clients 10] [--window 1] [--messages 5000]
        [--mode cprofile|callgrind|none] [--top 20] [--siox-dir DIR] [--base-dir DIR]

Reported per acked message: HTTP requests (GET, POST), packets per GET answer, and

* ``cprofile``: Python function calls in the server (and the top functions by call count);
* ``callgrind``: instructions executed by the server process and its calls to the allocator
  (``PyObject_Malloc``, ``PyMem_Malloc``, ``malloc``), counted by valgrind between two
  ``callgrind_control`` marks (needs valgrind; use a few thousand messages: it is ~50x slower);
* ``none``: only the server's CPU time per message and the rate (both noisy on a busy
  machine, and this process's clients share it: prefer the counts).

``--base-dir`` measures a second checkout the same way, alternately, and prints the ratios.
The batching (packets per answer) depends on timing, so compare runs made together.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

SELF = os.path.abspath(__file__)
HERE = os.path.dirname(SELF)
ROOT = os.path.dirname(HERE)
PAYLOAD = '"hello",{"id":42,"user":"alice","ok":true}'
ALLOCATORS = ("PyObject_Malloc", "PyMem_Malloc", "malloc", "PyObject_Calloc", "calloc")


# -- the server side (a subprocess: ``--serve``) --------------------------------------------------


def serve(mode: str) -> None:
    """Run the echo server; obey ``start`` / ``stop`` / ``quit`` lines on stdin."""
    import siox

    sio = siox.Server(cors_allowed_origins="*", max_http_buffer_size=100_000_000)

    @sio.on("echo")
    def echo(socket: siox.Socket, *args: object) -> tuple[object, ...]:
        return args

    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass

    async def main() -> None:
        loop = asyncio.get_running_loop()
        profile = cProfile.Profile() if mode == "cprofile" else None
        cpu = 0.0
        async with siox.serve(sio, host="127.0.0.1", port=0) as serving:
            print(json.dumps({"port": serving.port}), flush=True)
            while True:
                line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
                if line == "start":
                    cpu = time.process_time()
                    if profile is not None:
                        profile.enable()
                    print(json.dumps({"ok": True}), flush=True)
                elif line == "stop":
                    if profile is not None:
                        profile.disable()
                    report: dict[str, Any] = {"cpu": time.process_time() - cpu}
                    if profile is not None:
                        stats = pstats.Stats(profile)
                        rows = [
                            (calls, f"{os.path.basename(f)}:{n}:{name} ({own * 1e6:.0f} us)")
                            for (f, n, name), (_, calls, own, *_) in stats.stats.items()  # type: ignore[attr-defined]
                        ]
                        rows.sort(reverse=True)
                        report["calls"] = sum(calls for calls, _ in rows)
                        report["top"] = rows[:200]
                    print(json.dumps(report), flush=True)
                elif line == "ping":
                    print(json.dumps({"ok": True}), flush=True)
                else:
                    break

    asyncio.run(main())


# -- the clients (this process) -------------------------------------------------------------------


class Conn:
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def request(self, data: bytes) -> str:
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        found = re.search(rb"\r\ncontent-length:\s*(\d+)", head.lower())
        if found is None:
            raise RuntimeError("a response without Content-Length")
        body = await self.reader.readexactly(int(found.group(1)))
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:100]!r}")
        return body.decode()


class Counters:
    def __init__(self) -> None:
        self.gets = self.posts = self.packets = self.acks = 0


class PollClient:
    """One polling client: the GET loop and the POST loop."""

    def __init__(self, port: int, window: int, counters: Counters) -> None:
        self.port = port
        self.window = window
        self.counters = counters
        self.host = f"Host: 127.0.0.1:{port}\r\n"
        self.queue: list[str] = []
        self.posting = False
        self.quota = 0  # messages still to send in this phase
        self.missing = 0  # acks still to come in this phase
        self.done: asyncio.Future[None] | None = None
        self.path = ""

    async def open(self) -> None:
        self.get = Conn(*await asyncio.open_connection("127.0.0.1", self.port))
        self.post = Conn(*await asyncio.open_connection("127.0.0.1", self.port))
        base = "/socket.io/?EIO=4&transport=polling"
        answer = await self.get.request(self._get(base))
        sid = json.loads(answer.split("\x1e")[0][1:])["sid"]
        self.path = f"{base}&sid={sid}"
        self.get_bytes = self._get(self.path)
        await self.post.request(self._post("40"))
        self.poller = asyncio.get_running_loop().create_task(self.poll())
        self.connected: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await asyncio.wait_for(self.connected, 10)

    def _get(self, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\n{self.host}\r\n".encode("latin-1")

    def _post(self, body: str) -> bytes:
        data = body.encode()
        head = (
            f"POST {self.path} HTTP/1.1\r\n{self.host}Content-Type: text/plain;charset=UTF-8\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        return head.encode("latin-1") + data

    def run(self, count: int) -> asyncio.Future[None]:
        """Send ``count`` messages, at most ``window`` in flight; resolved when all are acked."""
        self.done = asyncio.get_running_loop().create_future()
        self.quota = count
        self.missing = count
        for i in range(min(self.window, count)):
            self._emit(i)
        self._flush()
        return self.done

    def _emit(self, ack_id: int) -> None:
        self.quota -= 1
        self.queue.append(f'42{ack_id}["echo",{PAYLOAD}]')

    async def poll(self) -> None:
        while True:
            try:
                body = await self.get.request(self.get_bytes)
            except (OSError, asyncio.IncompleteReadError, RuntimeError) as exc:
                self._failed(exc)
                return
            self.counters.gets += 1
            for packet in body.split("\x1e"):
                self.counters.packets += 1
                if packet.startswith("43"):
                    self.counters.acks += 1
                    self.missing -= 1
                    if self.quota > 0:
                        self._emit(int(packet[2 : packet.index("[")]))
                    elif self.missing == 0 and self.done is not None and not self.done.done():
                        self.done.set_result(None)
                elif packet.startswith("40") and not self.connected.done():
                    self.connected.set_result(None)
                elif packet == "2":
                    self.queue.append("3")
                elif packet == "1":
                    return
            self._flush()

    def _flush(self) -> None:
        if not self.posting and self.queue:
            self.posting = True
            asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while self.queue:
            body, self.queue = "\x1e".join(self.queue), []
            try:
                await self.post.request(self._post(body))
            except (OSError, asyncio.IncompleteReadError, RuntimeError) as exc:
                self._failed(exc)
                return
            self.counters.posts += 1
        self.posting = False

    def _failed(self, exc: BaseException) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError(f"a polling request failed: {exc!r}"))

    def close(self) -> None:
        self.poller.cancel()
        self.get.writer.close()
        self.post.writer.close()


def _callgrind_result(outdir: str, acks: int, keep: bool) -> dict[str, float]:
    """Instructions and allocations per message from the dump ``callgrind_control -d`` made."""
    dumps = sorted(os.listdir(outdir))
    marked = [name for name in dumps if name != "callgrind.out"]
    path = os.path.join(outdir, (marked or dumps)[0])
    instructions, allocations = _callgrind_totals(path)
    if keep:
        print(f"callgrind output kept: {path}")
    else:
        shutil.rmtree(outdir)
    return {"instr/msg": instructions / acks, "allocs/msg": allocations / acks}


def _callgrind_control(option: str, pid: int) -> None:
    subprocess.run(["callgrind_control", option, str(pid)], check=True, capture_output=True)


def _callgrind_totals(path: str) -> tuple[int, int]:
    """Instructions and allocator calls in a callgrind output file."""
    instructions = 0
    allocations = 0
    names: dict[str, str] = {}
    callee = ""
    with open(path) as file:
        for line in file:
            if line.startswith(("summary:", "totals:")):
                instructions = max(instructions, int(line.split()[1]))
            elif line.startswith("cfn="):
                found = re.match(r"cfn=\((\d+)\)(?: (.*))?", line.strip())
                if found:
                    key, name = found.groups()
                    if name:
                        names[key] = name
                    callee = names.get(key, "")
                else:
                    callee = line[4:].strip()
            elif line.startswith("calls=") and callee.split("'")[0] in ALLOCATORS:
                allocations += int(line[6:].split()[0])
    return instructions, allocations


async def measure(args: argparse.Namespace, siox_dir: str) -> dict[str, Any]:
    """One run against the checkout in ``siox_dir``."""
    env = dict(os.environ, PYTHONPATH=os.path.join(siox_dir, "src"))
    command = [sys.executable, SELF, "--serve", "--mode", args.mode]
    outdir = None
    if args.mode == "callgrind":
        outdir = tempfile.mkdtemp(prefix="polling-callgrind.")
        outfile = os.path.join(outdir, "callgrind.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={outfile}",
            *command,
        ]
    server = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    stdin, stdout = server.stdin, server.stdout

    async def command_(line: str) -> dict[str, Any]:
        stdin.write(line.encode() + b"\n")
        await stdin.drain()
        answer: dict[str, Any] = json.loads(await asyncio.wait_for(stdout.readline(), 120))
        return answer

    clients: list[PollClient] = []
    try:
        port = json.loads(await asyncio.wait_for(stdout.readline(), 120))["port"]
        counters = Counters()
        clients = [PollClient(port, args.window, counters) for _ in range(args.clients)]
        await asyncio.gather(*(client.open() for client in clients))
        per_client = max(1, args.messages // args.clients)
        warmup = max(args.window, per_client // 5)
        await asyncio.wait_for(asyncio.gather(*(c.run(warmup) for c in clients)), 300)
        if args.mode == "callgrind":  # counted from here (the "start" line wakes the server)
            _callgrind_control("-z", server.pid)
        await command_("start")
        before = vars(counters).copy()
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(c.run(per_client) for c in clients)), 600)
        wall = time.perf_counter() - started
        report = await command_("stop")
        if args.mode == "callgrind":  # dumped when the next line wakes the server
            _callgrind_control("-d", server.pid)
            await command_("ping")
        after = vars(counters)
        acks = after["acks"] - before["acks"]
        gets = after["gets"] - before["gets"]
        result: dict[str, Any] = {
            "acks": acks,
            "get/msg": gets / acks,
            "post/msg": (after["posts"] - before["posts"]) / acks,
            "packets/get": (after["packets"] - before["packets"]) / gets,
            "cpu us/msg": report["cpu"] / acks * 1e6,
            "msg/s": acks / wall,
        }
        if "calls" in report:
            result["calls/msg"] = report["calls"] / acks
            result["top"] = [(calls / acks, name) for calls, name in report["top"]]
    finally:
        for client in clients:
            client.close()
        if server.returncode is None:
            stdin.write(b"quit\n")
            await stdin.drain()
            try:
                await asyncio.wait_for(server.wait(), 60)
            except TimeoutError:
                server.kill()
                await server.wait()
    if outdir is not None:
        result.update(_callgrind_result(outdir, acks, args.keep))
    return result


def _show(name: str, result: dict[str, Any], top: int) -> None:
    cells = "  ".join(f"{key} {value:,.2f}" for key, value in result.items() if key != "top")
    print(f"{name}: {cells}")
    for calls, function in result.get("top", [])[:top]:
        print(f"    {calls:8.2f}  {function}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--window", type=int, default=1)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--mode", choices=("cprofile", "callgrind", "none"), default="cprofile")
    parser.add_argument("--top", type=int, default=20, help="cprofile: top functions to show")
    parser.add_argument("--siox-dir", default=ROOT, help="the checkout measured (default: this)")
    parser.add_argument("--base-dir", default=None, help="a second checkout to compare with")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="callgrind: keep the output file")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.mode)
        return
    print(f"clients {args.clients} window {args.window} messages {args.messages} ({args.mode})")
    for _ in range(args.repeat):
        result = await measure(args, args.siox_dir)
        _show("siox", result, args.top)
        if args.base_dir:
            base = await measure(args, args.base_dir)
            _show("base", base, args.top)
            ratios = "  ".join(
                f"{key} {result[key] / base[key]:.3f}"
                for key in result
                if key not in ("top", "acks") and base.get(key)
            )
            print(f"siox/base: {ratios}")


if __name__ == "__main__":
    if "--serve" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--serve", action="store_true")
        parser.add_argument("--mode", default="none")
        serve(parser.parse_args().mode)
    else:
        asyncio.run(main())
