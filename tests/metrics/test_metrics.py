"""Prometheus metrics: a served siox server, real clients, and the scraped ``/metrics`` text."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import siox
from rawpeer import eio_url, http, open_polling, running

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scraped: dict[Any, float], name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(port: int) -> dict[Any, float]:
    result = await http(port, "GET", "/metrics")
    assert result.status == 200
    assert result.headers["content-type"].startswith("text/plain")
    return samples(result.text)


async def test_scraped_metrics_count_connections_events_bytes_acks_rooms_and_errors() -> None:
    sio = siox.Server(max_buffer_size=2_000)
    sio.on_error(lambda exc: None)
    registry = prometheus_client.CollectorRegistry()
    sio.instrument_metrics(registry=registry)
    chat = sio.of("/chat")

    @chat.on("join")
    async def join(socket: siox.Socket, room: str) -> str:
        await socket.join(room)
        return "ok"

    @chat.on("boom")
    def boom(socket: siox.Socket) -> None:
        raise ValueError("boom")

    @chat.on("ask-me")
    async def ask_me(socket: siox.Socket) -> Any:
        return await socket.emit_with_ack("question", 1, timeout=5)

    @sio.on("flood")
    async def flood(socket: siox.Socket) -> None:
        await socket.emit("big", "x" * 5_000)

    async with running(sio) as port:
        url = f"http://127.0.0.1:{port}"
        async with (
            siox.connect(url, namespace="/chat", reconnection=False) as alice,
            siox.connect(url, namespace="/chat", reconnection=False, transports=["polling"]) as bob,
        ):
            alice.on("question", lambda n: n + 1)
            assert await alice.emit_with_ack("join", "lobby", timeout=5) == "ok"
            assert await bob.emit_with_ack("join", "lobby", timeout=5) == "ok"
            assert await alice.emit_with_ack("ask-me", timeout=5) == 2
            await alice.emit("boom")
            await asyncio.sleep(0.1)

            # refused requests: an unknown session, a bad transport
            assert (await http(port, "GET", eio_url("transport=polling&sid=nope"))).status == 400
            assert (await http(port, "GET", eio_url("transport=carrier-pigeon"))).status == 400

            # a slow consumer: a polling client that never polls gets more than max_buffer_size
            sid, _ = await open_polling(port)
            posted = await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b"40")
            assert posted.status == 200
            connect = await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
            assert connect.text.startswith("40")
            await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b'42["flood"]')
            for _ in range(100):
                if sid not in sio.engine.sessions:
                    break
                await asyncio.sleep(0.02)

            # a polling client that has not polled since it asked to connect: its reply waits
            waiting, _ = await open_polling(port)
            posted = await http(port, "POST", eio_url(f"transport=polling&sid={waiting}"), b"40")
            assert posted.status == 200
            buffered = sio.engine.sessions[waiting].core.buffered_amount
            assert buffered > 0

            scraped = await scrape(port)

    assert value(scraped, "siox_connections", transport="websocket", protocol="4") == 1
    assert value(scraped, "siox_connections", transport="polling", protocol="4") == 2
    assert value(scraped, "siox_connections_opened_total", transport="polling", protocol="4") == 4
    assert value(scraped, "siox_outgoing_buffered_bytes") >= buffered
    assert value(scraped, "siox_outgoing_buffered_bytes_max") >= buffered
    assert value(scraped, "siox_namespaces") == 2
    assert value(scraped, "siox_sockets", namespace="/chat") == 2
    assert value(scraped, "siox_sockets", namespace="/") == 1
    assert value(scraped, "siox_rooms", namespace="/chat") == 1  # lobby (own rooms not counted)
    assert value(scraped, "siox_events_received_total", namespace="/chat") == 4
    assert value(scraped, "siox_events_received_total", namespace="/") == 1
    assert value(scraped, "siox_events_sent_total", namespace="/chat") == 1  # the question
    assert value(scraped, "siox_bytes_received_total", namespace="/chat") > 0
    assert value(scraped, "siox_bytes_sent_total", namespace="/chat") > 0
    assert value(scraped, "siox_ack_latency_seconds_count", namespace="/chat") == 1
    assert value(scraped, "siox_ack_latency_seconds_bucket", namespace="/chat", le="+Inf") == 1
    assert value(scraped, "siox_handler_errors_total", namespace="/chat") == 1
    assert value(scraped, "siox_requests_refused_total", reason="Session ID unknown") == 1
    assert value(scraped, "siox_requests_refused_total", reason="Transport unknown") == 1
    assert value(scraped, "siox_slow_consumer_drops_total") == 1
    # the reason the slow consumer's connection ended with (its own, not "transport error")
    assert value(scraped, "siox_connections_closed_total", reason="slow consumer") == 1
    assert value(scraped, "siox_connections_closed_total", reason="transport error") == 0


async def test_namespace_labels_are_bounded() -> None:
    sio = siox.Server()
    registry = prometheus_client.CollectorRegistry()
    sio.instrument_metrics(registry=registry, max_namespaces=2, path="/m")
    sio.of("/a"), sio.of("/b"), sio.of("/c")
    async with running(sio) as port:
        result = await http(port, "GET", "/m")
    scraped = samples(result.text)
    labels = {dict(k[1]).get("namespace") for k in scraped if k[0] == "siox_sockets"}
    assert labels == {"/", "/a", "other"}


async def test_the_endpoint_answers_only_reads_and_an_asgi_app_serves_the_same() -> None:
    sio = siox.Server()
    registry = prometheus_client.CollectorRegistry()
    metrics = sio.instrument_metrics(registry=registry)
    async with running(sio) as port:
        assert (await http(port, "POST", "/metrics", b"")).status == 405
    app = siox.ASGIApp(sio, other_asgi_app=metrics.asgi_app("/metrics"))
    async with asgi_served(app) as port:
        found = await http(port, "GET", "/metrics")
        assert found.status == 200 and b"siox_namespaces 1.0" in found.body
        assert (await http(port, "GET", "/elsewhere")).status == 404
        assert (await http(port, "GET", "/socket.io/?EIO=4&transport=polling")).status == 200


@asynccontextmanager
async def asgi_served(app: Any) -> AsyncIterator[int]:
    """``app`` under uvicorn (lifespan on) on a free port."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_an_uninstrumented_server_serves_no_metrics() -> None:
    sio = siox.Server()
    async with running(sio) as port:
        assert (await http(port, "GET", "/metrics")).status == 404
    assert sio.observer is None
