"""A game lobby: rooms for tables, a ready check with an acknowledgement timeout, acked moves.

    python examples/game_lobby/app.py [--port 3000] [--ready-timeout 10]

* ``create`` opens a table and answers its code; ``join(code)`` sits at it (two seats) and
  answers ``{"ok": True, ...}`` or ``{"ok": False, "error": ...}``; ``tables`` lists open tables.
* When a table is full, the server asks both players ``ready_check`` and waits for their
  acknowledgements for ``--ready-timeout`` seconds: players who answered in time get
  ``game_start``; a player who did not is sent back to the lobby (``kicked``) and the seat opens.
* ``move(n)`` during a game is acknowledged with the move's number; the other player gets
  ``moved``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
from dataclasses import dataclass, field

import siox

sio = siox.Server()
READY_TIMEOUT = 10.0


@dataclass
class Table:
    """One table: its players (socket ids, in seat order) and whether a game runs."""

    code: str
    players: list[str] = field(default_factory=list)
    playing: bool = False
    moves: int = 0

    @property
    def room(self) -> str:
        """The name of the table's room."""
        return f"table:{self.code}"


tables: dict[str, Table] = {}
background: set[asyncio.Task[None]] = set()  # tasks are kept until done


def _table_of(socket: siox.Socket) -> Table | None:
    code = socket.data.get("table")
    return tables.get(code) if isinstance(code, str) else None


@sio.on("create")
async def create(socket: siox.Socket) -> str:
    code = secrets.token_hex(3)
    tables[code] = Table(code)
    return code


@sio.on("tables")
def list_tables(socket: siox.Socket) -> list[dict[str, object]]:
    return [
        {"code": t.code, "players": len(t.players)}
        for t in tables.values()
        if not t.playing and len(t.players) < 2
    ]


@sio.on("join")
async def join(socket: siox.Socket, code: object) -> dict[str, object]:
    table = tables.get(code) if isinstance(code, str) else None
    if table is None:
        return {"ok": False, "error": "no such table"}
    if _table_of(socket) is not None:
        return {"ok": False, "error": "already at a table"}
    if len(table.players) >= 2:
        return {"ok": False, "error": "table full"}
    table.players.append(socket.id)
    socket.data["table"] = code
    await socket.join(table.room)
    if len(table.players) == 2:
        task = asyncio.create_task(ready_check(table))
        background.add(task)
        task.add_done_callback(background.discard)
    return {"ok": True, "seat": len(table.players)}


async def ready_check(table: Table) -> None:
    """Ask everyone at the table whether they are ready; start, or free the silent seats."""
    results = await sio.to(table.room).timeout(READY_TIMEOUT).emit_with_ack("ready_check")
    ready = {sid for sid, answer in results.by_socket.items() if answer is True}
    for sid in list(table.players):
        if sid not in ready:
            await leave_table(sid, table, "not ready in time")
    if len(table.players) == 2:
        table.playing = True
        await sio.to(table.room).emit("game_start", {"table": table.code})


async def leave_table(sid: str, table: Table, reason: str) -> None:
    table.players.remove(sid)
    table.playing = False
    socket = sio.of("/").sockets.get(sid)
    if socket is not None:
        socket.data.pop("table", None)
        await socket.leave(table.room)
        await socket.emit("kicked", {"table": table.code, "reason": reason})


@sio.on("move")
async def move(socket: siox.Socket, square: object) -> dict[str, object]:
    table = _table_of(socket)
    if table is None or not table.playing:
        return {"ok": False, "error": "no game"}
    table.moves += 1
    await socket.to(table.room).emit("moved", {"square": square, "number": table.moves})
    return {"ok": True, "number": table.moves}


@sio.on("disconnect")
async def disconnect(socket: siox.Socket, reason: str) -> None:
    table = _table_of(socket)
    if table is not None:
        table.players.remove(socket.id)
        table.playing = False
        await sio.to(table.room).emit("opponent_left", {"table": table.code})


async def main(host: str, port: int) -> None:
    async with siox.serve(sio, host=host, port=port) as serving:
        print(f"listening on http://{host}:{serving.port}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--ready-timeout", type=float, default=READY_TIMEOUT)
    options = parser.parse_args()
    READY_TIMEOUT = options.ready_timeout
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(main(options.host, options.port))
    except KeyboardInterrupt:
        pass  # Ctrl-C: leaving `serve` shut the server down gracefully
