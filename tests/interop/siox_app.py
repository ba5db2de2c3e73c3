"""The siox server app that the conformance suites and interop scenarios run against.

It mirrors tests/node/reference_server.js (the Node control) event for event; that file's
header lists the namespaces and events, and the two must stay in step. Run it with::

    python tests/interop/siox_app.py --port 3000 [--app socketio|engineio]
        [--profile conformance|interop|recovery] [--parser default|msgpack|msgpack-module]
        [--eio3]

Profiles: ``conformance`` is what the socket.io-protocol suite expects (ping 0.3 s / timeout
0.2 s, no state recovery); ``interop`` uses a slower heartbeat for the Node client scenarios;
``recovery`` is ``interop`` with connection state recovery on (emits then carry an offset, which
socket.io-client hands to listeners as an extra argument, hence a profile of its own).

Written against siox's public API; where that is silent it follows
the JS shapes (``socket.namespace`` is the socket's Namespace, like JS ``socket.nsp``, and a
Namespace has the Server's broadcast operators). The siox tests skip while siox has no Server.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import siox

HEARTBEATS = {"conformance": (0.3, 0.2), "interop": (0.5, 1.0), "recovery": (0.5, 1.0)}
DYNAMIC_NAMESPACE = re.compile(r"^/dyn-\d+$")


def sorted_rooms(socket: siox.Socket) -> list[str]:
    """The socket's rooms, sorted, without the room named by its own id."""
    return sorted(room for room in socket.rooms if room != socket.id)


def ack_args(value: Any) -> list[Any]:
    """An ``emit_with_ack`` result as the list of ack arguments (None / value / tuple).

    A client acking with one null argument and one acking with none both give None here, so
    the scenarios never ack with a lone null.
    """
    if value is None:
        return []
    if isinstance(value, tuple):
        return list(value)
    return [value]


async def message(socket: siox.Socket, *args: Any) -> None:
    """Emit "message-back" with the same arguments."""
    await socket.emit("message-back", *args)


async def message_with_ack(socket: siox.Socket, *args: Any) -> tuple[Any, ...]:
    """Acknowledge with the same arguments."""
    return args


async def join(socket: siox.Socket, room: str) -> list[str]:
    """Join ``room``; acknowledge with the socket's rooms."""
    await socket.join(room)
    return sorted_rooms(socket)


async def leave(socket: siox.Socket, room: str) -> list[str]:
    """Leave ``room``; acknowledge with the socket's rooms."""
    await socket.leave(room)
    return sorted_rooms(socket)


async def whoami(socket: siox.Socket) -> dict[str, Any]:
    """Acknowledge with the socket's id, namespace name, recovery flag and rooms."""
    return {
        "id": socket.id,
        "nsp": socket.namespace.name,
        "recovered": socket.recovered,
        "rooms": sorted_rooms(socket),
    }


async def emit(socket: siox.Socket, spec: dict[str, Any]) -> None:
    """Emit ``spec["event"]`` as ``spec`` says (see reference_server.js), then ack with nothing.

    ``from: "socket"`` is ``socket.to(...)`` (everyone else when no room is named); otherwise
    the socket's namespace (the concrete one for a dynamic namespace, like JS ``socket.nsp``).
    """
    rooms: list[str] = spec.get("to") or []
    target: siox.BroadcastOperator | siox.Namespace
    if spec.get("from") == "socket":
        target = socket.to(rooms) if rooms else socket.namespace.except_(socket.id)
    else:
        target = socket.namespace.to(rooms) if rooms else socket.namespace
    for room in spec.get("except") or []:
        target = target.except_(room)
    if spec.get("volatile"):
        target = target.volatile
    await target.emit(spec["event"], *(spec.get("args") or []))


async def ask_me(socket: siox.Socket, spec: dict[str, Any]) -> dict[str, Any]:
    """Emit to this socket with an ack; acknowledge with {ok: [args]} or {error: "timeout"}."""
    try:
        value = await socket.emit_with_ack(
            spec["event"], *(spec.get("args") or []), timeout=spec["timeout_ms"] / 1000
        )
    except siox.AckTimeout:
        return {"error": "timeout"}
    return {"ok": ack_args(value)}


async def ask_room(socket: siox.Socket, spec: dict[str, Any]) -> dict[str, Any]:
    """Broadcast with acks to a room; acknowledge with the replies and whether any is missing."""
    target = socket.namespace.to(spec["room"]).timeout(spec["timeout_ms"] / 1000)
    results = await target.emit_with_ack(spec["event"], *(spec.get("args") or []))
    return {"replies": list(results.replies), "timed_out": results.missing > 0}


async def kick(socket: siox.Socket) -> None:
    """Disconnect this socket from its namespace (the client sees "io server disconnect")."""
    await socket.disconnect()


# Every namespace handles these; no other event has a handler (so none is acknowledged).
EVENTS: dict[str, Callable[..., Awaitable[Any]]] = {
    "message": message,
    "message-with-ack": message_with_ack,
    "join": join,
    "leave": leave,
    "whoami": whoami,
    "emit": emit,
    "ask-me": ask_me,
    "ask-room": ask_room,
    "kick": kick,
}


async def greet_with_auth(socket: siox.Socket, auth: dict[str, Any]) -> None:
    """Connect handler of "/" and "/custom": echo the handshake auth as an "auth" event."""
    await socket.emit("auth", auth)


async def greet_with_name(socket: siox.Socket, auth: dict[str, Any]) -> None:
    """Connect handler of the other namespaces: a "welcome" event with the namespace name."""
    await socket.emit("welcome", socket.namespace.name)


async def require_token(socket: siox.Socket, auth: dict[str, Any]) -> None:
    """Middleware of "/private": refuse unless the auth payload carries token "secret"."""
    if auth.get("token") != "secret":
        raise siox.ConnectionRefused("not authorized", {"reason": "bad token"})


def parser_option(name: str) -> Any:
    """The ``parser=`` for a command-line name; ``msgpack-module`` is the module object itself
    (the documented parser shape: ``encode`` and ``Decoder``)."""
    if name == "msgpack-module":
        import siox.parser.msgpack

        return siox.parser.msgpack
    return name


def build_socketio_app(
    *, profile: str = "conformance", parser: str = "default", eio3: bool = False
) -> siox.Server:
    """The Socket.IO app: namespaces "/", "/custom", /^\\/dyn-\\d+$/ and "/private"."""
    ping_interval, ping_timeout = HEARTBEATS[profile]
    recovery: siox.Recovery | bool = False
    if profile == "recovery":
        recovery = siox.Recovery(max_disconnection_duration=30.0, skip_middlewares=True)
    sio = siox.Server(
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        connect_timeout=1.0,
        parser=parser_option(parser),
        allow_eio3=eio3,
        connection_state_recovery=recovery,
    )
    greetings: list[tuple[str | re.Pattern[str], Callable[..., Awaitable[None]]]] = [
        ("/", greet_with_auth),
        ("/custom", greet_with_auth),
        (DYNAMIC_NAMESPACE, greet_with_name),
        ("/private", greet_with_name),
    ]
    for name, greet in greetings:
        ns = sio.of(name)
        if name == "/private":
            ns.use(require_token)
        ns.on("connect")(greet)
        for event, handler in EVENTS.items():
            ns.on(event)(handler)
    return sio


async def echo(session: Any, data: str | bytes) -> None:
    """Engine.IO message handler: send the message back."""
    await session.send(data)


def build_engineio_app(*, eio3: bool = False) -> siox.EngineServer:
    """The bare Engine.IO echo app at /engine.io/ that the engine.io-protocol suites expect."""
    ping_interval, ping_timeout = HEARTBEATS["conformance"]
    eio = siox.EngineServer(
        path="/engine.io/",
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        allow_eio3=eio3,
    )
    eio.on("message")(echo)
    return eio


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line shared with reference_server.js and serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--app", choices=("socketio", "engineio"), default="socketio")
    parser.add_argument(
        "--profile", choices=("conformance", "interop", "recovery"), default="conformance"
    )
    parser.add_argument(
        "--parser", choices=("default", "msgpack", "msgpack-module"), default="default"
    )
    parser.add_argument("--eio3", action="store_true")
    options = parser.parse_args(argv)
    app: siox.Server | siox.EngineServer
    if options.app == "engineio":
        app = build_engineio_app(eio3=options.eio3)
    else:
        app = build_socketio_app(profile=options.profile, parser=options.parser, eio3=options.eio3)
    siox.run(app, host=options.host, port=options.port)


if __name__ == "__main__":
    main()
