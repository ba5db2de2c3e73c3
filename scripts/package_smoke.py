"""Smoke test of an installed siox (run by scripts/package-smoke inside a fresh virtualenv).

A server on a free port and a client round trip over polling and over WebSocket, with a binary
argument (the WebSocket path unmasks client frames: the compiled speedup when it was built).
``--expect-speedups yes|no`` fails unless the C speedup did (or did not) load.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import siox
import siox.http._mask as mask
import siox.parser.packet as packet


async def round_trip() -> None:
    sio = siox.Server()

    @sio.on("echo")
    def echo(socket: siox.Socket, value: object) -> object:
        return value

    payload = {"text": "héllo", "blob": bytes(range(256)) * 40}
    async with siox.serve(sio, port=0) as serving:
        url = f"http://127.0.0.1:{serving.port}"
        for transports in (("polling",), ("websocket",), ("polling", "websocket")):
            async with siox.connect(url, transports=transports) as socket:
                reply = await socket.emit_with_ack("echo", payload, timeout=10)
                if reply != payload:
                    raise SystemExit(f"round trip over {transports} gave {reply!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect-speedups", choices=("yes", "no"), required=True)
    options = parser.parse_args()
    where = Path(siox.__file__).resolve()
    if Path(sys.prefix).resolve() not in where.parents:
        raise SystemExit(f"siox imported from {where}, not from the virtualenv {sys.prefix}")
    asyncio.run(round_trip())
    loaded = mask.apply_mask is not mask.pure_apply_mask
    parser_loaded = packet.COMPILED is not None
    print(
        f"siox {siox.__version__}: round trips OK (polling, websocket, upgrade); "
        f"C speedup siox.http._speedups {'loaded' if loaded else 'not loaded (pure Python)'}, "
        f"siox.parser._speedups {'loaded' if parser_loaded else 'not loaded (pure Python)'}"
    )
    for name, found in (("siox.http", loaded), ("siox.parser", parser_loaded)):
        if found != (options.expect_speedups == "yes"):
            raise SystemExit(f"expected the {name} speedup {'' if found else 'not '}to be absent")


if __name__ == "__main__":
    main()
