"""A typed siox app: the subject of the typed-events tests (run in-process and by Node)."""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from typing import Literal, NotRequired, TypedDict

import msgspec
import pydantic

import siox


class Mood(enum.Enum):
    HAPPY = "happy"
    GRUMPY = "grumpy"


@dataclass
class ChatMessage:
    """A message for a room."""

    room: str
    text: str
    priority: int = 0
    tags: list[str] = field(default_factory=list)
    mood: Mood | None = None


@dataclass
class Receipt:
    room: str
    length: int


class Point(TypedDict):
    x: float
    y: float
    label: NotRequired[str]


class Profile(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0)


class Order(msgspec.Struct):
    item: str
    quantity: int


@dataclass
class NewsItem:
    title: str
    body: str


def build(*, validate_events: bool = True) -> siox.Server:
    """A server with typed handlers on "/" and "/shop" and declared emits."""
    sio = siox.Server(validate_events=validate_events, cors_allowed_origins="*")
    sio.calls = []  # type: ignore[attr-defined]
    calls: list[object] = sio.calls  # type: ignore[attr-defined]

    @sio.on("chat")
    async def chat(socket: siox.Socket, message: ChatMessage) -> Receipt:
        """Post a message to a room."""
        calls.append(message)
        return Receipt(message.room, len(message.text))

    @sio.on("move")
    def move(socket: siox.Socket, point: Point, speed: float = 1.0) -> list[float]:
        calls.append((point, speed))
        return [point["x"] * speed, point["y"] * speed]

    @sio.on("profile")
    def profile(socket: siox.Socket, profile: Profile) -> Profile:
        calls.append(profile)
        return profile

    @sio.on("mode")
    def mode(socket: siox.Socket, value: Literal["fast", "slow"], *extra: int) -> tuple[str, int]:
        calls.append((value, extra))
        return value, sum(extra)

    @sio.on("upload")
    def upload(socket: siox.Socket, name: str, data: bytes) -> int:
        calls.append((name, data))
        return len(data)

    shop = sio.of("/shop")

    @shop.on("order")
    async def order(socket: siox.Socket, order: Order) -> dict[str, int]:
        calls.append(order)
        return {order.item: order.quantity}

    sio.declare_emits("news", NewsItem)
    sio.declare_emits("ping me", int, ack=str)
    sio.declare_emits("shipped", Order, namespace="/shop")
    return sio


app = build()
asgi = siox.ASGIApp(app)

if __name__ == "__main__":  # serve on the port given (the Node test's peer)
    siox.run(app, host="127.0.0.1", port=int(sys.argv[1]))
