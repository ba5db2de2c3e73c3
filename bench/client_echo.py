"""Echo-loop measurement: the siox client against npm socket.io-client (not a test).

Both clients talk to the same Node socket.io 4.8 server (tests/node/client_peer_server.js,
its "echo" event acknowledges its arguments) and send MESSAGES "echo" events with an ack,
at most WINDOW in flight. Reported per client: messages per second (wall clock) and the
client process's CPU time per message (user + system), the server being another process.

    .venv/bin/python bench/client_echo.py [--messages 20000] [--payload 64]
        [--transports websocket,polling] [--windows 1,64] [--uvloop] [--repeat 3]

Each row is the best of ``--repeat`` runs (highest rate, lowest CPU), which filters out the
noise of a busy machine; client and server share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "src"))

import siox  # noqa: E402

NODE_DIR = os.path.join(ROOT, "tests", "node")


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        ["node", os.path.join(NODE_DIR, "client_peer_server.js"), "--port", "0"],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    port = json.loads(line)["listening"]["port"]
    return process, f"http://127.0.0.1:{port}"


async def siox_loop(
    url: str, total: int, window: int, transport: str, size: int
) -> tuple[float, float]:
    transports = ("polling", "websocket") if transport == "upgrade" else (transport,)
    payload = "x" * size
    async with siox.connect(url, transports=transports, wait_timeout=10) as socket:
        if transport == "upgrade":
            # The client announces no upgrade: poll for it (outside the measured part).
            while socket.client.transport != "websocket":  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        for _ in range(200):  # warm-up
            await socket.emit_with_ack("echo", payload)
        cpu0, t0 = time.process_time(), time.perf_counter()
        if window == 1:
            for _ in range(total):
                await socket.emit_with_ack("echo", payload)
        else:  # WINDOW workers, each waiting for its ack before sending again

            async def worker(count: int) -> None:
                for _ in range(count):
                    await socket.emit_with_ack("echo", payload)

            share, rest = divmod(total, window)
            await asyncio.gather(*(worker(share + (i < rest)) for i in range(window)))
        return time.perf_counter() - t0, time.process_time() - cpu0


def node_loop(url: str, total: int, window: int, transport: str, size: int) -> tuple[float, float]:
    out = subprocess.run(
        ["node", os.path.join(HERE, "client_echo_node.js"), url, str(total), str(window),
         transport, str(size)],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["wall"], result["cpu"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--payload", type=int, default=64)
    parser.add_argument("--transports", default="websocket,polling")
    parser.add_argument("--windows", default="1,64")
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    process, url = start_server()
    try:
        print(f"{'client':<22}{'transport':<11}{'window':>6}{'msg/s':>10}{'CPU us/msg':>12}")
        for transport in args.transports.split(","):
            for window in (int(w) for w in args.windows.split(",")):
                total = args.messages if transport == "websocket" else args.messages // 4
                label = "siox" + (" (uvloop)" if args.uvloop else "")
                runs: dict[str, list[tuple[float, float]]] = {"socket.io-client": [], label: []}
                for _ in range(args.repeat):
                    runs["socket.io-client"].append(
                        node_loop(url, total, window, transport, args.payload)
                    )
                    runs[label].append(
                        asyncio.run(siox_loop(url, total, window, transport, args.payload))
                    )
                for name, results in runs.items():
                    rate = max(total / wall for wall, _ in results)
                    cpu = min(cpu for _, cpu in results) / total * 1e6
                    print(f"{name:<22}{transport:<11}{window:>6}{rate:>10.0f}{cpu:>12.1f}")
    finally:
        process.terminate()
        process.wait(timeout=5)


if __name__ == "__main__":
    main()
