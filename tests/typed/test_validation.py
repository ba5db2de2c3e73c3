"""Typed events through a real server and in-memory clients (siox.testing)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

import siox
from siox.testing import TestServer
from siox.typed import INVALID_PAYLOAD, InvalidPayload
from typed.typed_app import ChatMessage, Mood, Order, Profile, build

if TYPE_CHECKING:
    from siox import Socket as CheckerOnlySocket


@dataclass
class Hello:
    name: str


def _errors(sio: siox.Server) -> list[tuple[BaseException, siox.ErrorContext]]:
    seen: list[tuple[BaseException, siox.ErrorContext]] = []

    @sio.on_error
    def hook(exc: BaseException, context: siox.ErrorContext) -> None:
        seen.append((exc, context))

    return seen


def _calls(sio: siox.Server) -> list[Any]:
    calls: list[Any] = sio.calls  # type: ignore[attr-defined]
    return calls


async def test_a_valid_payload_reaches_the_handler_as_a_dataclass_and_the_ack_is_encoded() -> None:
    sio = build()
    errors = _errors(sio)
    async with TestServer(sio) as server:
        client = await server.connect()
        payload = {"room": "lobby", "text": "hello", "tags": ["a"], "mood": "happy"}
        ack = await client.emit_with_ack("chat", payload)
    assert ack == {"room": "lobby", "length": 5}
    assert _calls(sio) == [ChatMessage("lobby", "hello", 0, ["a"], Mood.HAPPY)]
    assert errors == []


async def test_an_invalid_payload_is_answered_with_the_error_value_and_never_reaches_the_handler() -> (
    None
):
    sio = build()
    errors = _errors(sio)
    async with TestServer(sio) as server:
        client = await server.connect()
        ack = await client.emit_with_ack("chat", {"room": 3, "tags": ["ok", 4]})
    assert ack == {
        "error": INVALID_PAYLOAD,
        "event": "chat",
        "details": [
            {"loc": [0, "room"], "message": "expected a string, got int"},
            {"loc": [0, "text"], "message": "missing"},
            {"loc": [0, "tags", 1], "message": "expected a string, got int"},
        ],
    }
    assert _calls(sio) == []
    [(exc, context)] = errors
    assert isinstance(exc, InvalidPayload)
    assert context.event == "chat" and context.namespace == "/" and context.socket_id == client.id


async def test_an_invalid_payload_without_ack_is_reported_and_dropped() -> None:
    sio = build()
    errors = _errors(sio)
    async with TestServer(sio) as server:
        client = await server.connect()
        await client.emit("move", {"x": "left"})
        await client.emit("move", {"x": 1, "y": 2}, 3)
        await server.settle()
    assert _calls(sio) == [({"x": 1.0, "y": 2.0}, 3.0)]  # ints converted to floats
    assert [context.event for _, context in errors] == ["move"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "missing argument 'point'"),
        (({"x": 1, "y": 1}, 1.0, "extra"), "unexpected argument (takes 2)"),
        (({"x": True, "y": 1},), "expected a number, got bool"),
        ((None,), "expected an object (Point), got null"),
    ],
)
async def test_arity_and_scalars_are_checked(args: tuple[Any, ...], message: str) -> None:
    sio = build()
    async with TestServer(sio) as server:
        client = await server.connect()
        ack = await client.emit_with_ack("move", *args)
    assert ack["error"] == INVALID_PAYLOAD
    assert ack["details"][0]["message"] == message
    assert _calls(sio) == []


async def test_pydantic_models_msgspec_structs_literals_and_binary_are_validated() -> None:
    sio = build()
    async with TestServer(sio) as server:
        client = await server.connect()
        assert await client.emit_with_ack("profile", {"name": "ann", "age": 7}) == {
            "name": "ann",
            "age": 7,
        }
        refused = await client.emit_with_ack("profile", {"name": "bob", "age": -1})
        assert refused["details"][0]["loc"] == [0, "age"]
        assert await client.emit_with_ack("mode", "fast", 1, 2) == ("fast", 3)
        assert (await client.emit_with_ack("mode", "medium"))["error"] == INVALID_PAYLOAD
        assert await client.emit_with_ack("upload", "f", b"\x00\x01\x02") == 3
        shop = await server.connect("/shop")
        assert await shop.emit_with_ack("order", {"item": "tea", "quantity": 2}) == {"tea": 2}
        refused = await shop.emit_with_ack("order", {"item": "tea", "quantity": "two"})
        assert "Expected `int`, got `str`" in refused["details"][0]["message"]
    assert _calls(sio) == [
        Profile(name="ann", age=7),
        ("fast", (1, 2)),
        ("f", b"\x00\x01\x02"),
        Order("tea", 2),
    ]


async def test_validation_is_off_by_default_and_handlers_are_not_wrapped() -> None:
    sio = build(validate_events=False)
    handler = sio.of("/").handlers["chat"]
    assert not hasattr(handler, "_siox_plan")
    async with TestServer(sio) as server:
        client = await server.connect()
        await client.emit("chat", {"room": "r", "text": "t"})
        await server.settle()
    assert _calls(sio) == [{"room": "r", "text": "t"}]  # the raw dict


def test_siox_typed_is_not_even_imported_unless_a_server_validates_events() -> None:
    code = (
        "import sys, siox\n"
        "sio = siox.Server()\n"
        "sio.on('x', lambda socket, value: None)\n"
        "print('siox.typed' in sys.modules)\n"
        "siox.Server(validate_events=True).on('y', lambda socket, value: None)\n"
        "print('siox.typed' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout.split() == ["False", "True"], run.stderr


async def test_once_off_and_listeners_see_the_typed_handler_as_the_original() -> None:
    sio = siox.Server(validate_events=True)
    got: list[Any] = []

    def hello(socket: siox.Socket, hi: Hello) -> None:
        got.append(hi)

    sio.once("hello", hello)
    assert sio.of("/").listeners("hello") == [hello]
    async with TestServer(sio) as server:
        client = await server.connect()
        await client.emit("hello", {"name": "x"})
        await client.emit("hello", {"name": "y"})
        await server.settle()
    assert got == [Hello("x")]
    sio.on("hello", hello)
    assert sio.of("/").listeners("hello") == [hello]
    sio.of("/").off("hello", hello)
    assert sio.of("/").listeners("hello") == []


class _Callable:
    async def _answer(self, order: Order) -> Order:
        return order

    def __call__(self, socket: siox.Socket, order: Order) -> Any:
        return self._answer(order)  # a coroutine, from a plain call


async def test_results_of_coroutines_returned_by_plain_callables_are_encoded_too() -> None:
    sio = siox.Server(validate_events=True)
    sio.on("callable", _Callable())
    sio.on("typed", _typed_function_returning_a_coroutine)
    async with TestServer(sio) as server:
        client = await server.connect()
        ack = await client.emit_with_ack("callable", {"item": "a", "quantity": 1})
        assert ack == {"item": "a", "quantity": 1}
        ack = await client.emit_with_ack("typed", {"item": "b", "quantity": 2})
        assert ack == {"item": "b", "quantity": 2}
        assert (await client.emit_with_ack("typed", {}))["error"] == INVALID_PAYLOAD


def _typed_function_returning_a_coroutine(socket: siox.Socket, order: Order) -> Any:
    return _Callable()._answer(order)


async def test_a_socket_annotation_only_known_to_type_checkers_is_not_needed() -> None:
    sio = siox.Server(validate_events=True)
    got: list[Order] = []

    def order(socket: CheckerOnlySocket, order: Order) -> None:
        got.append(order)

    sio.on("order", order)
    async with TestServer(sio) as server:
        client = await server.connect()
        await client.emit("order", {"item": "a", "quantity": 3})
        assert (await client.emit_with_ack("order", {"item": 1}))["error"] == INVALID_PAYLOAD
    assert got == [Order("a", 3)]


def test_an_annotation_siox_cannot_validate_is_refused_at_registration() -> None:
    sio = siox.Server(validate_events=True)
    sio.on("untyped", lambda socket, value: None)  # nothing to check: fine
    with pytest.raises(TypeError, match="cannot validate values annotated"):
        sio.on("opaque", _opaque)
    with pytest.raises(TypeError, match="object keys are strings"):
        sio.on("keys", _int_keys)
    with pytest.raises(TypeError, match="must be importable from its module"):
        sio.on("local", _local_type())
    assert set(sio.of("/").handlers) == {"untyped"}


class Opaque:
    pass


def _opaque(socket: siox.Socket, value: Opaque) -> None: ...


def _int_keys(socket: siox.Socket, value: dict[int, str]) -> None: ...


def _local_type() -> Any:
    @dataclass
    class Local:
        x: int

    def handler(socket: siox.Socket, value: Local) -> None: ...

    return handler


async def test_dynamic_namespaces_share_the_typed_handlers() -> None:
    import re

    sio = siox.Server(validate_events=True)
    rooms = sio.of(re.compile(r"/room-\d+"))
    got: list[Any] = []

    @rooms.on("order")
    def order(socket: siox.Socket, order: Order) -> None:
        got.append((socket.nsp, order))

    async with TestServer(sio) as server:
        client = await server.connect("/room-1")
        assert (await client.emit_with_ack("order", {}))["error"] == INVALID_PAYLOAD
        await client.emit("order", {"item": "a", "quantity": 1})
        await server.settle()
    assert got == [("/room-1", Order("a", 1))]
    assert msgspec.to_builtins(got[0][1]) == {"item": "a", "quantity": 1}


async def test_typed_events_work_over_the_msgpack_parser() -> None:
    sio = siox.Server(validate_events=True, parser="msgpack")

    @sio.on("chat")
    def chat(socket: siox.Socket, message: ChatMessage, blob: bytes) -> tuple[ChatMessage, int]:
        return message, len(blob)

    async with TestServer(sio) as server:
        client = await server.connect()
        ack = await client.emit_with_ack("chat", {"room": "r", "text": "t"}, b"\x00\xff")
        assert ack == ({"room": "r", "text": "t", "priority": 0, "tags": [], "mood": None}, 2)
        refused = await client.emit_with_ack("chat", {"room": "r", "text": "t", 1: "x"}, "no")
        assert refused["details"] == [{"loc": [1], "message": "expected binary data, got str"}]
