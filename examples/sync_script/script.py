"""A blocking script with `siox.SyncClient`: no asyncio in sight.

    python examples/sync_script/script.py http://127.0.0.1:3000 [--ticks 3]

It talks to the background task example (``examples/background_task/app.py``): subscribes to
its ticks, prints a few as they arrive, asks for the server's status, and exits.
"""

from __future__ import annotations

import argparse
import sys

import siox


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--ticks", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=10.0)
    options = parser.parse_args()
    try:
        with siox.SyncClient(options.url, reconnection=False) as client:
            socket = client.connect("/", timeout=options.timeout)
            print("connected as", socket.id)
            socket.emit_with_ack("subscribe", timeout=options.timeout)
            for _ in range(options.ticks):
                tick = socket.wait_for("tick", timeout=options.timeout)
                print("tick", tick["count"])
            status = socket.emit_with_ack("status", timeout=options.timeout)
            print("status", status)
    except (siox.SioxError, TimeoutError) as error:
        print(f"failed: {error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
