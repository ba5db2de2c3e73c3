"""OpenTelemetry spans: a served, traced siox server, real clients, the SDK's in-memory exporter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import siox
from rawpeer import running

pytest.importorskip("opentelemetry.sdk")
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    found = InMemorySpanExporter()
    yield found
    found.clear()


def provider_for(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@asynccontextmanager
async def client(port: int, **options: Any) -> AsyncIterator[siox.ClientSocket]:
    url = f"http://127.0.0.1:{port}"
    async with siox.connect(url, reconnection=False, **options) as socket:
        yield socket


async def spans_named(exporter: InMemorySpanExporter, name: str, count: int) -> list[ReadableSpan]:
    """The finished spans called ``name``, once there are ``count`` of them (bounded wait)."""
    for _ in range(200):
        found = [s for s in exporter.get_finished_spans() if s.name == name]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} {name!r} spans expected: {exporter.get_finished_spans()}")


def trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def parent_id(span: ReadableSpan) -> str | None:
    return None if span.parent is None else format(span.parent.span_id, "016x")


def span_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.span_id, "016x")


async def test_handshake_connect_and_event_spans_carry_their_attributes(
    exporter: InMemorySpanExporter,
) -> None:
    sio = siox.Server()
    sio.instrument_tracing(tracer_provider=provider_for(exporter))
    chat = sio.of("/chat")
    seen: dict[str, str] = {}

    @chat.on("connect")
    def connect(socket: siox.Socket) -> None:
        seen["id"] = socket.id

    @chat.on("hello")
    def hello(socket: siox.Socket, name: str) -> str:
        return f"hi {name}"

    @chat.on("fire")
    def fire(socket: siox.Socket) -> None:
        pass

    async with running(sio) as port, client(port, namespace="/chat") as socket:
        assert await socket.emit_with_ack("hello", "ann", timeout=5) == "hi ann"
        await socket.emit("fire")
        await socket.emit("nobody-listens")
        [handshake] = await spans_named(exporter, "handshake", 1)
        [connected] = await spans_named(exporter, "connect", 1)
        [event] = await spans_named(exporter, "hello", 1)
        [fired] = await spans_named(exporter, "fire", 1)

    assert handshake.kind is SpanKind.SERVER
    assert handshake.attributes is not None
    assert handshake.attributes["messaging.system"] == "socket.io"
    assert handshake.attributes["engine.io.transport"] in ("polling", "websocket")
    assert handshake.attributes["engine.io.protocol"] == 4
    assert handshake.attributes["client.address"] == "127.0.0.1"

    assert connected.kind is SpanKind.SERVER
    assert dict(connected.attributes or {}) == {
        "messaging.system": "socket.io",
        "messaging.operation.name": "connect",
        "messaging.operation.type": "process",
        "messaging.destination.name": "/chat",
        "engine.io.transport": connected.attributes["engine.io.transport"],  # type: ignore[index]
        "messaging.client.id": seen["id"],
        "socket.io.connect.result": "accepted",
    }
    assert connected.parent is None  # no carrier: a trace of its own

    assert event.kind is SpanKind.CONSUMER
    assert dict(event.attributes or {}) == {
        "messaging.system": "socket.io",
        "messaging.operation.name": "event",
        "messaging.operation.type": "process",
        "messaging.destination.name": "/chat",
        "messaging.client.id": seen["id"],
        "socket.io.event": "hello",
        "socket.io.ack": "sent",
    }
    assert event.status.status_code is StatusCode.UNSET
    assert fired.attributes is not None and fired.attributes["socket.io.ack"] == "none"
    # an event without a handler is dropped, and names no span
    assert not [s for s in exporter.get_finished_spans() if s.name == "nobody-listens"]


async def test_a_traceparent_in_auth_is_the_connect_spans_parent_and_handler_spans_nest(
    exporter: InMemorySpanExporter,
) -> None:
    provider = provider_for(exporter)
    sio = siox.Server()
    sio.instrument_tracing(tracer_provider=provider)
    app_tracer = provider.get_tracer("app")
    auth_seen: list[Any] = []

    @sio.on("connect")
    async def connect(socket: siox.Socket, auth: Any) -> None:
        auth_seen.append(auth)
        with app_tracer.start_as_current_span("load-user"):
            await asyncio.sleep(0)

    async with running(sio) as port:
        auth = {"token": "t", "traceparent": TRACEPARENT, "tracestate": "vendor=1"}
        async with client(port, auth=auth):
            [connected] = await spans_named(exporter, "connect", 1)
            [own] = await spans_named(exporter, "load-user", 1)

    assert trace_id(connected) == TRACE_ID
    assert parent_id(connected) == PARENT_ID
    assert connected.parent is not None and connected.parent.is_remote
    assert connected.context is not None
    assert connected.context.trace_state.to_header() == "vendor=1"
    assert trace_id(own) == TRACE_ID and parent_id(own) == span_id(connected)
    assert auth_seen == [auth]  # auth is the application's: left as sent


@pytest.mark.parametrize("strip", [True, False])
async def test_a_carrier_as_last_argument_parents_the_event_span(
    exporter: InMemorySpanExporter, strip: bool
) -> None:
    provider = provider_for(exporter)
    sio = siox.Server()
    sio.instrument_tracing(tracer_provider=provider, strip_carrier=strip)
    app_tracer = provider.get_tracer("app")
    received: list[tuple[Any, ...]] = []
    caught: list[tuple[Any, ...]] = []
    sio.on_any(lambda socket, *args: caught.append(args))

    @sio.on("order")
    async def order(socket: siox.Socket, *args: Any) -> int:
        received.append(args)
        with app_tracer.start_as_current_span("store-order"):
            await asyncio.sleep(0)
        return len(args)

    carrier = {"traceparent": TRACEPARENT}
    async with running(sio) as port, client(port) as socket:
        count = await socket.emit_with_ack("order", {"id": 7}, carrier, timeout=5)
        # a payload that merely has a traceparent field is the application's, never a carrier
        await socket.emit_with_ack("order", {"traceparent": TRACEPARENT, "qty": 2}, timeout=5)
        first, second = await spans_named(exporter, "order", 2)
        [own, _] = await spans_named(exporter, "store-order", 2)

    if strip:
        assert count == 1 and received[0] == ({"id": 7},)
    else:
        assert count == 2 and received[0] == ({"id": 7}, carrier)
    assert received[1] == ({"traceparent": TRACEPARENT, "qty": 2},)
    assert caught[0] == ("order", {"id": 7}, carrier)  # catch-all listeners see it as sent
    assert trace_id(first) == TRACE_ID and parent_id(first) == PARENT_ID
    assert trace_id(own) == TRACE_ID and parent_id(own) == span_id(first)
    assert second.parent is None and trace_id(second) != TRACE_ID


async def test_a_raising_handler_marks_its_span_as_an_error_and_no_ack_is_sent(
    exporter: InMemorySpanExporter,
) -> None:
    sio = siox.Server()
    sio.on_error(lambda exc: None)
    sio.instrument_tracing(tracer_provider=provider_for(exporter))

    @sio.on("boom")
    async def boom(socket: siox.Socket, n: int) -> None:
        raise ValueError("kaput")

    @sio.of("/locked").on("connect")
    def locked(socket: siox.Socket) -> None:
        raise RuntimeError("connect failed")

    @sio.of("/closed").use
    def refuse(socket: siox.Socket, auth: Any) -> None:
        raise siox.ConnectionRefused("no entry")

    async with running(sio) as port, client(port) as socket:
        with pytest.raises(siox.AckTimeout):  # asked for, never sent
            await socket.emit_with_ack("boom", 1, timeout=0.3)
        [failed] = await spans_named(exporter, "boom", 1)
        for namespace in ("/locked", "/closed"):
            with pytest.raises(siox.ConnectionRefused):
                async with client(port, namespace=namespace):
                    pass
        connects = await spans_named(exporter, "connect", 3)

    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "ValueError: kaput"
    [exception] = [e for e in failed.events if e.name == "exception"]
    assert exception.attributes is not None
    assert exception.attributes["exception.type"] == "ValueError"
    assert exception.attributes["exception.message"] == "kaput"
    assert failed.attributes is not None and failed.attributes["socket.io.ack"] == "not sent"

    results = {(s.attributes or {})["messaging.destination.name"]: s for s in connects}
    assert (results["/"].attributes or {})["socket.io.connect.result"] == "accepted"
    errored = results["/locked"]
    assert (errored.attributes or {})["socket.io.connect.result"] == "error"
    assert errored.status.status_code is StatusCode.ERROR
    assert [e.name for e in errored.events] == ["exception"]
    refused = results["/closed"]
    assert (refused.attributes or {})["socket.io.connect.result"] == "refused"
    assert refused.status.status_code is StatusCode.UNSET
    assert "messaging.client.id" not in (refused.attributes or {})


async def test_a_traceparent_header_on_the_handshake_parents_the_handshake_span(
    exporter: InMemorySpanExporter,
) -> None:
    sio = siox.Server()
    sio.instrument_tracing(tracer_provider=provider_for(exporter))
    async with running(sio) as port, client(port, headers={"traceparent": TRACEPARENT}):
        [handshake] = await spans_named(exporter, "handshake", 1)
    assert trace_id(handshake) == TRACE_ID and parent_id(handshake) == PARENT_ID


async def test_without_tracing_no_observer_tracer_or_wrapper_is_installed() -> None:
    sio = siox.Server()

    @sio.on("ping")
    def ping(socket: siox.Socket) -> str:
        return "pong"

    async with running(sio) as port, client(port) as socket:
        assert await socket.emit_with_ack("ping", timeout=5) == "pong"
        [driver] = sio.connections.values()
        assert driver.tracer is None and driver.observer is None
        assert sio.tracer is None and sio.observer is None
        assert sio.of("/").handlers["ping"] is ping
        assert sio.of("/").handler_wrapper is None


def test_tracing_twice_is_refused() -> None:
    sio = siox.Server()
    sio.instrument_tracing(tracer_provider=trace.NoOpTracerProvider())
    with pytest.raises(RuntimeError, match="already"):
        sio.instrument_tracing()


async def test_typed_events_validate_the_arguments_without_the_stripped_carrier(
    exporter: InMemorySpanExporter,
) -> None:
    sio = siox.Server(validate_events=True)
    sio.instrument_tracing(tracer_provider=provider_for(exporter))

    @sio.on("add")
    def add(socket: siox.Socket, a: int, b: int) -> int:
        return a + b

    async with running(sio) as port, client(port) as socket:
        assert await socket.emit_with_ack("add", 2, 3, {"traceparent": TRACEPARENT}, timeout=5) == 5
        [span] = await spans_named(exporter, "add", 1)
    assert trace_id(span) == TRACE_ID


async def test_a_legacy_clients_spans_leave_out_its_socket_id_which_holds_its_session_id(
    exporter: InMemorySpanExporter,
) -> None:
    sio = siox.Server(allow_eio3=True)
    sio.instrument_tracing(tracer_provider=provider_for(exporter))
    sio.on("ping", lambda socket: "pong")

    async with running(sio) as port, client(port, protocol=4) as socket:
        assert await socket.emit_with_ack("ping", timeout=5) == "pong"
        [handshake] = await spans_named(exporter, "handshake", 1)
        [connected] = await spans_named(exporter, "connect", 1)
        [event] = await spans_named(exporter, "ping", 1)

    assert (handshake.attributes or {})["engine.io.protocol"] == 3
    assert (connected.attributes or {})["socket.io.connect.result"] == "accepted"
    assert (event.attributes or {})["socket.io.ack"] == "sent"
    for span in (handshake, connected, event):
        assert "messaging.client.id" not in (span.attributes or {})
