"""The siox twin of tests/node/client_peer_server.js: the same namespaces and events.

Differences forced by the server: no HTTP request log ("requests" answers []), and "flaky"
ignores a first try by raising (a siox handler that returns always acknowledges).
"""

from __future__ import annotations

from typing import Any

import siox


class UnackedTry(Exception):
    """Raised by "flaky" on a first try so that no ack is sent."""


def make_server(*, recovery: bool = False, parser: str = "default", **options: Any) -> siox.Server:
    """A siox.Server with the peer app (recovery as the Node one: 60 s, middlewares skipped)."""
    sio = siox.Server(
        connection_state_recovery=siox.Recovery(max_disconnection_duration=60.0)
        if recovery
        else False,
        parser=parser,
        max_http_buffer_size=10_000_000,
        **options,
    )
    received: list[Any] = []
    flaky_tries: dict[Any, int] = {}

    def setup(ns: siox.Namespace) -> None:
        @ns.on("connect")
        async def connect(socket: siox.Socket, auth: dict[str, Any]) -> None:
            await socket.emit("welcome", {"nsp": ns.name, "auth": auth})

        @ns.on("echo")
        def echo(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
            return args

        @ns.on("echo-back")
        async def echo_back(socket: siox.Socket, *args: Any) -> None:
            await socket.emit("echo-back", *args)

        @ns.on("info")
        def info(socket: siox.Socket) -> dict[str, Any]:
            return {
                "id": socket.id,
                "nsp": ns.name,
                "auth": socket.handshake.auth,
                "query": socket.handshake.query,
                "headers": socket.handshake.headers,
                "transport": socket.transport,
                "recovered": socket.recovered,
            }

        @ns.on("requests")
        def requests(socket: siox.Socket) -> list[Any]:
            return []

        @ns.on("record")
        def record(socket: siox.Socket, value: Any) -> None:
            received.append(value)

        @ns.on("received")
        def get_received(socket: siox.Socket) -> list[Any]:
            return received

        @ns.on("flaky")
        def flaky(socket: siox.Socket, value: Any) -> Any:
            tries = flaky_tries[value] = flaky_tries.get(value, 0) + 1
            if tries < 2:
                raise UnackedTry(value)
            received.append(value)
            return value

        @ns.on("ask")
        async def ask(socket: siox.Socket, spec: dict[str, Any]) -> dict[str, Any]:
            try:
                reply = await socket.emit_with_ack(
                    spec["event"], *spec.get("args", []), timeout=2.0
                )
            except siox.AckTimeout:
                return {"error": "timeout"}
            if reply is None:
                return {"reply": []}
            return {"reply": list(reply) if isinstance(reply, tuple) else [reply]}

        @ns.on("kick")
        async def kick(socket: siox.Socket) -> None:
            await socket.disconnect()

        @ns.on("drop")
        async def drop(socket: siox.Socket, count: int) -> None:
            room = socket.id
            socket.conn.close()
            for i in range(count):
                await ns.to(room).emit("missed", i)

        @ns.on("broadcast")
        async def broadcast(socket: siox.Socket, event: str, *args: Any) -> None:
            await ns.emit(event, *args)

    setup(sio.of("/"))
    setup(sio.of("/chat"))
    private = sio.of("/private")

    @private.use
    async def check_token(socket: siox.Socket, auth: dict[str, Any]) -> None:
        if auth.get("token") != "secret":
            raise siox.ConnectionRefused("not authorized", {"reason": "bad token"})

    setup(private)
    return sio
