"""Typed events: arguments checked and converted from the handler's annotations (siox.typed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

import pydantic
import pytest

import siox
from siox.testing import TestServer
from siox.typed import INVALID_ARGUMENTS, InvalidArguments, validate_events


@dataclass
class Point:
    x: float
    y: float


@dataclass
class Move:
    player: str
    to: Point
    path: list[Point] = field(default_factory=list)
    mode: Literal["walk", "run"] = "walk"


class Chat(TypedDict):
    text: str
    room: NotRequired[str]


def typed_server() -> tuple[siox.Server, list[BaseException]]:
    sio = siox.Server()
    errors: list[BaseException] = []
    sio.on_error(errors.append)

    @sio.on("move")
    async def move(socket: siox.Socket, move: Move, speed: int | None = None) -> Point:
        assert isinstance(move, Move)
        assert isinstance(move.to, Point)
        assert all(isinstance(p, Point) for p in move.path)
        return Point(move.to.x * (speed or 1), move.to.y)

    @sio.on("chat")
    def chat(socket: siox.Socket, message: Chat, *tags: str) -> dict[str, Any]:
        return {"text": message["text"], "tags": list(tags)}

    validate_events(sio)  # after registration: wraps what is there, and what comes later

    @sio.of("/late").on("count")
    def count(socket: siox.Socket, values: list[int]) -> int:
        return sum(values)

    return sio, errors


async def test_valid_arguments_are_converted_and_return_values_encoded() -> None:
    sio, errors = typed_server()
    async with TestServer(sio) as server:
        client = await server.connect()
        reply = await client.emit_with_ack(
            "move", {"player": "p1", "to": {"x": 1, "y": 2.5}, "path": [{"x": 0, "y": 0}]}, 3
        )
        assert reply == {"x": 3.0, "y": 2.5}
        assert await client.emit_with_ack("chat", {"text": "hi"}, "a", "b") == {
            "text": "hi",
            "tags": ["a", "b"],
        }
        late = await server.connect("/late")
        assert await late.emit_with_ack("count", [1, 2, 3]) == 6
    assert errors == []


@pytest.mark.parametrize(
    ("event", "args", "details"),
    [
        ("move", [{"player": "p1"}], ["arg 1 (move).to: missing"]),
        (
            "move",
            [{"player": 1, "to": {"x": "1", "y": 2}}],
            [
                "arg 1 (move).player: expected str",
                "arg 1 (move).to.x: expected a number",
            ],
        ),
        (
            "move",
            [{"player": "p", "to": {"x": 1, "y": 2}, "mode": "fly"}],
            [
                "arg 1 (move).mode: expected one of ['walk', 'run']",
            ],
        ),
        (
            "move",
            [{"player": "p", "to": {"x": 1, "y": 2}, "admin": True}],
            [
                "arg 1 (move).admin: unknown field",
            ],
        ),
        (
            "move",
            [{"player": "p", "to": {"x": 1, "y": 2}}, "fast"],
            [
                "arg 2 (speed): expected int | NoneType",
            ],
        ),
        ("move", [], ["move: missing"]),
        ("chat", [{"text": "hi", "room": 5}], ["arg 1 (message).room: expected str"]),
        ("chat", [{"text": "hi"}, 1], ["arg 2: expected str"]),
        ("chat", ["hi"], ["arg 1 (message): expected an object (Chat)"]),
    ],
)
async def test_invalid_arguments_never_reach_the_handler_and_get_the_error_ack(
    event: str, args: list[Any], details: list[str]
) -> None:
    sio, errors = typed_server()
    async with TestServer(sio) as server:
        client = await server.connect()
        reply = await client.emit_with_ack(event, *args)
    assert reply == {"error": INVALID_ARGUMENTS, "details": details}
    (error,) = errors
    assert isinstance(error, InvalidArguments) and error.details == details


async def test_surplus_arguments_are_refused_unless_the_handler_takes_them() -> None:
    sio, errors = typed_server()
    async with TestServer(sio) as server:
        late = await server.connect("/late")
        reply = await late.emit_with_ack("count", [1], "extra")
    assert reply["details"] == ["arg 2: unexpected (the handler takes 1)"]
    assert len(errors) == 1


async def test_an_invalid_event_without_ack_is_reported_and_dropped() -> None:
    sio, errors = typed_server()
    seen: list[Any] = []

    @sio.on("note")
    def note(socket: siox.Socket, value: int) -> None:
        seen.append(value)

    async with TestServer(sio) as server:
        client = await server.connect()
        await client.emit("note", "not a number")
        await client.emit("note", 7)
        await server.settle()
    assert seen == [7]
    assert [type(e) for e in errors] == [InvalidArguments]


async def test_once_handlers_and_listeners_see_the_user_function() -> None:
    sio = siox.Server()
    validate_events(sio)
    calls: list[int] = []

    def once(socket: siox.Socket, n: int) -> int:
        calls.append(n)
        return n

    sio.of("/").once("one", once)
    assert sio.of("/").listeners("one") == [once]
    async with TestServer(sio) as server:
        client = await server.connect()
        assert await client.emit_with_ack("one", 1) == 1
        await client.emit("one", 2)
        await server.settle()
    assert calls == [1]
    sio.on("two", once)
    sio.of("/").off("two", once)
    assert sio.of("/").listeners("two") == []


async def test_dynamic_namespace_children_validate_once() -> None:
    import re

    sio = siox.Server()
    rule = sio.of(re.compile(r"/room-\w+"))

    @rule.on("n")
    def n(socket: siox.Socket, value: int) -> int:
        return value + 1

    validate_events(sio)
    async with TestServer(sio) as server:
        client = await server.connect("/room-a")
        assert await client.emit_with_ack("n", 1) == 2
        assert (await client.emit_with_ack("n", "x"))["error"] == INVALID_ARGUMENTS


class Profile(pydantic.BaseModel):
    name: str
    age: int


async def test_pydantic_models_are_validated_and_dumped() -> None:
    sio = siox.Server()
    sio.on_error(lambda exc: None)
    validate_events(sio)

    @sio.on("profile")
    def profile(socket: siox.Socket, value: Profile) -> Profile:
        assert isinstance(value, Profile)
        return Profile(name=value.name.upper(), age=value.age + 1)

    async with TestServer(sio) as server:
        client = await server.connect()
        assert await client.emit_with_ack("profile", {"name": "ada", "age": 36}) == {
            "name": "ADA",
            "age": 37,
        }
        reply = await client.emit_with_ack("profile", {"name": "ada", "age": "old"})
    assert reply["error"] == INVALID_ARGUMENTS
    assert reply["details"][0].startswith("arg 1 (value).age: ")
