"""socket.io-client@4 (Node) sends a trace context; the siox server's spans continue it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import siox
from legacy.node_run import needs_node, run_node
from rawpeer import running

pytest.importorskip("opentelemetry.sdk")
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

pytestmark = [pytest.mark.interop, needs_node]

AUTH_TRACE, AUTH_PARENT = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
EVENT_TRACE, EVENT_PARENT = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


async def test_a_node_client_traceparent_in_auth_and_in_an_event_parents_the_spans() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sio = siox.Server()
    sio.instrument_tracing(tracer_provider=provider)
    auths: list[Any] = []

    @sio.on("connect")
    def connect(socket: siox.Socket, auth: Any) -> None:
        auths.append(auth)

    @sio.on("order")
    async def order(socket: siox.Socket, *args: Any) -> list[Any]:
        with provider.get_tracer("app").start_as_current_span("store"):
            await asyncio.sleep(0)
        return list(args)

    async with running(sio) as port:
        result = await run_node(
            "otel_client.js",
            f"http://127.0.0.1:{port}",
            f"00-{AUTH_TRACE}-{AUTH_PARENT}-01",
            f"00-{EVENT_TRACE}-{EVENT_PARENT}-01",
        )
        provider.force_flush()

    assert result["ack"] == [{"id": 7}]  # the carrier was stripped before the handler
    spans = {span.name: span for span in exporter.get_finished_spans()}
    connected, event, store = spans["connect"], spans["order"], spans["store"]
    assert connected.context is not None and connected.parent is not None
    assert format(connected.context.trace_id, "032x") == AUTH_TRACE
    assert format(connected.parent.span_id, "016x") == AUTH_PARENT
    assert connected.context.trace_state.to_header() == "node=1"
    assert (connected.attributes or {})["messaging.client.id"] == result["id"]
    assert event.context is not None and event.parent is not None
    assert format(event.context.trace_id, "032x") == EVENT_TRACE
    assert format(event.parent.span_id, "016x") == EVENT_PARENT
    assert (event.attributes or {})["socket.io.ack"] == "sent"
    assert (event.attributes or {})["messaging.client.id"] == result["id"]
    assert store.parent is not None and store.parent.span_id == event.context.span_id
    assert auths[0]["token"] == "secret"
