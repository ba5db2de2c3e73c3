"""The siox app the legacy-protocol tests talk to (socket.io 2.x clients beside 4.x ones).

Served in-process with ``allow_eio3=True`` on a free port (`serving`). Namespaces:

* ``/``: ``echo`` acks its arguments; ``whoami`` acks ``{id, nsp, auth, query_token}``;
  ``ask`` ``(event, *args)`` emits ``event`` to the caller with an ack and acks the reply;
  ``join`` ``(room)`` acks the socket's rooms (own id left out); ``shout`` ``(room, *args)``
  broadcasts ``news`` to the room (sender included) and acks ``True``; ``ask-room`` ``(room)``
  broadcasts ``question`` with acks (2 s) and acks the sorted replies; ``send-binary`` emits
  ``bin`` with binary arguments.
* ``/chat``: ``whoami``; the auth of its CONNECT is the ``?query`` of a 2.x client.
* ``/private``: a middleware refuses unless ``auth["token"] == "secret"``, with message
  ``not authorized`` and data ``{"reason": "bad token"}``.
* ``/private-plain``: a middleware refuses with message ``go away`` and data ``0`` (falsy in
  JavaScript: a 2.x client gets the message).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import siox
from rawpeer import running


@dataclass
class Record:
    """What the app saw: auth per socket id, disconnections, handler errors."""

    auth: dict[str, dict[str, Any]] = field(default_factory=dict)
    left: list[tuple[str, str]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def build_app(**options: Any) -> tuple[siox.Server, Record]:
    """The app (``allow_eio3=True``, any origin) and its record."""
    sio = siox.Server(allow_eio3=True, cors_allowed_origins="*", **options)
    record = Record()
    sio.on_error(record.errors.append)

    async def whoami(socket: siox.Socket) -> dict[str, Any]:
        return {
            "id": socket.id,
            "nsp": socket.namespace.name,
            "auth": socket.handshake.auth,
            "query_token": socket.handshake.query.get("token"),
        }

    for name in ("/", "/chat"):
        namespace = sio.of(name)

        @namespace.on("connect")
        async def connect(socket: siox.Socket, auth: dict[str, Any]) -> None:
            record.auth[socket.id] = auth

        @namespace.on("disconnect")
        async def disconnect(socket: siox.Socket, reason: str) -> None:
            record.left.append((socket.id, reason))

        namespace.on("whoami", whoami)

    @sio.on("echo")
    async def echo(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @sio.on("ask")
    async def ask(socket: siox.Socket, event: str, *args: Any) -> Any:
        return await socket.emit_with_ack(event, *args, timeout=5.0)

    @sio.on("join")
    async def join(socket: siox.Socket, room: str) -> list[str]:
        await socket.join(room)
        return sorted(socket.rooms - {socket.id})

    @sio.on("shout")
    async def shout(socket: siox.Socket, room: str, *args: Any) -> bool:
        await sio.to(room).emit("news", *args)
        return True

    @sio.on("ask-room")
    async def ask_room(socket: siox.Socket, room: str) -> list[Any]:
        results = await sio.to(room).timeout(2.0).emit_with_ack("question", room)
        return sorted(results.replies, key=repr)

    @sio.on("send-binary")
    async def send_binary(socket: siox.Socket) -> None:
        await socket.emit("bin", b"\x00\x01\xff", {"nested": b"xyz", "list": [b"", 7]})

    async def only_with_secret(socket: siox.Socket, auth: dict[str, Any]) -> None:
        if auth.get("token") != "secret":
            raise siox.ConnectionRefused("not authorized", {"reason": "bad token"})

    sio.of("/private").use(only_with_secret)
    sio.of("/private").on("whoami", whoami)

    async def refuse_plainly(socket: siox.Socket, auth: dict[str, Any]) -> None:
        raise siox.ConnectionRefused("go away", 0)

    sio.of("/private-plain").use(refuse_plainly)
    sio.of(re.compile(r"/dyn-\d+")).on("whoami", whoami)
    return sio, record


@asynccontextmanager
async def serving(**options: Any) -> AsyncIterator[tuple[int, siox.Server, Record]]:
    """Serve a fresh app on 127.0.0.1:<free port>; yields (port, server, record)."""
    sio, record = build_app(**options)
    async with running(sio) as port:
        yield port, sio, record
        # Polling sessions without a pending GET would hold the shutdown for a second each.
        await sio.engine.shutdown(0.05)
