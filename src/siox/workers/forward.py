"""Across machines without sticky sessions: requests for another machine's sessions, forwarded.

A polling request for a session of another node goes over the cluster's bus (Redis) to the
worker that owns it, and is answered.

With a cluster adapter configured, every supervisor picks a random node id (4 characters),
written after the worker index in its session ids (`siox.workers.ids`). A request whose session
id names another node is taken off the HTTP front end by a `Forwarding` protocol: it reads the
whole request, checks that the owner listens (``NUMSUB``; none: the 400 of an unknown session),
publishes it on the owner's channel ``<key>-engine#<node><index>#req`` and writes back the
answer published on its own ``...#res`` channel, then closes the connection. The owner's
`EngineBridge` serves forwarded requests with its engine as if they had arrived directly.

Polling requests only: a WebSocket upgrade for a session of another machine is refused (400);
socket.io clients then keep polling. Messages use `siox.workers.frames` (no extra dependency).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any

from ..adapters.pubsub import PubSub
from ..http.http11 import Body, EndOfMessage, HttpError, Request, RequestParser, Upgraded
from ..http.messages import write_response
from ..server.engine_server import EngineServer
from ..server.http_types import HttpRequest, HttpResponse
from .frames import MSG, FrameError, encode, split
from .stats import WorkerStats

__all__ = ["EngineBridge", "Forwarding", "channel_of"]

logger = logging.getLogger("siox.workers")

_UNKNOWN = HttpResponse(
    400, [("Content-Type", "application/json")], b'{"code":1,"message":"Session ID unknown"}'
)
_ids = itertools.count()


def channel_of(key: str, node: str, index: int) -> str:
    """The channel prefix of one worker of one node."""
    return f"{key}-engine#{node}{index}#"


def _headers(request: Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        headers[key] = headers[key] + ", " + text if key in headers else text
    return headers


class EngineBridge:
    """One worker's end of forwarding: serves forwarded requests, routes answers back.

    Args:
        engine: this worker's engine.
        pubsub: the cluster's bus.
        prefix: this worker's channel prefix (`channel_of`).
        stats: this worker's counters.
        timeout: seconds a forwarded request may wait for its answer (a long-polling GET
            waits up to the ping interval).
    """

    def __init__(
        self, engine: EngineServer, pubsub: PubSub, prefix: str, stats: WorkerStats, timeout: float
    ) -> None:
        self.engine = engine
        self.pubsub = pubsub
        self.prefix = prefix
        self.stats = stats
        self.timeout = timeout
        self.waiting: dict[bytes, asyncio.Future[HttpResponse]] = {}
        self.key = ""  # the cluster's key (channel prefix)
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def _subscription(self) -> tuple[str, list[str]]:
        # Exact channels (NUMSUB counts them); the bus wants a pattern too: one never used.
        return self.prefix + "unused", [self.prefix + "req", self.prefix + "res"]

    async def start(self) -> None:
        """Subscribe to this worker's channels."""
        await self.pubsub.subscribe(*self._subscription, self._on_message)

    async def close(self) -> None:
        """Unsubscribe; pending forwarded requests are cancelled."""
        await self.pubsub.unsubscribe(*self._subscription)
        for task in list(self.tasks):
            task.cancel()

    async def _on_message(self, channel: str, message: bytes) -> None:
        try:
            [(op, items)] = split(bytearray(message))
            if op != MSG:
                raise FrameError(f"operation {op}")
            if channel.endswith("#req"):
                task = asyncio.ensure_future(self._serve(items))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            elif channel.endswith("#res"):
                rid, status, headers, body = items
                future = self.waiting.get(rid)
                if future is not None and not future.done():
                    pairs = [(str(k), str(v)) for k, v in json.loads(headers)]
                    future.set_result(HttpResponse(int(status), pairs, body))
        except (FrameError, ValueError, TypeError) as exc:
            logger.warning("siox workers: dropped a forwarded message on %s: %r", channel, exc)

    async def _serve(self, items: list[bytes]) -> None:
        rid, reply, method, target, headers, address, body = items
        path, _, query = target.decode("latin-1").partition("?")
        chunks = [body]

        async def receive() -> bytes | None:
            return chunks.pop() if chunks else None

        request = HttpRequest(
            method.decode(), path, query, json.loads(headers), address.decode(), False, receive
        )
        self.stats.forwarded_in += 1
        response = await self.engine.handle_http(request)
        answer = encode(
            MSG, rid, str(response.status).encode(), json.dumps(response.headers).encode(),
            response.body,
        )  # fmt: skip
        await self.pubsub.publish(reply.decode(), answer)

    async def forward(
        self, owner: str, request: Request, body: bytes, address: str
    ) -> HttpResponse:
        """Send ``request`` to the worker whose channel prefix is ``owner``; its answer."""
        if await self.pubsub.numsub(owner + "req") == 0:  # no such worker (a forged id)
            return _UNKNOWN
        rid = str(next(_ids)).encode()
        future = self.waiting[rid] = asyncio.get_running_loop().create_future()
        message = encode(
            MSG, rid, (self.prefix + "res").encode(), request.method.encode(),
            request.target.encode("latin-1"), json.dumps(_headers(request)).encode(),
            address.encode(), body,
        )  # fmt: skip
        self.stats.forwarded_out += 1
        try:
            await self.pubsub.publish(owner + "req", message)
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            return HttpResponse(504, [("Content-Type", "text/plain")], b"owner did not answer")
        finally:
            self.waiting.pop(rid, None)


class Forwarding(asyncio.Protocol):
    """A connection taken off the HTTP front end: one request forwarded, answered, closed."""

    def __init__(
        self, bridge: EngineBridge, owner: str, transport: asyncio.Transport, max_body: int
    ) -> None:
        self.bridge = bridge
        self.owner = owner
        self.transport = transport
        self.parser = RequestParser(max_body_size=max_body)
        self.head: Request | None = None
        self.body: list[bytes] = []
        self.task: asyncio.Task[None] | None = None
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if isinstance(peer, tuple) else ""

    def data_received(self, data: bytes) -> None:
        """asyncio.Protocol callback."""
        for event in self.parser.receive_data(data):
            if isinstance(event, Request):
                self.head = event
            elif isinstance(event, Body):
                self.body.append(event.data)
            elif isinstance(event, EndOfMessage) and self.head is not None and self.task is None:
                if self.head.upgrade:  # no WebSocket across machines: the client keeps polling
                    self._answer(_UNKNOWN)
                    return
                self.transport.pause_reading()
                self.task = asyncio.ensure_future(self._forward(self.head))
            elif isinstance(event, Upgraded):
                self._answer(_UNKNOWN)
            elif isinstance(event, HttpError):
                self._answer(HttpResponse(event.status))

    async def _forward(self, head: Request) -> None:
        try:
            response = await self.bridge.forward(
                self.owner, head, b"".join(self.body), self.address
            )
        except Exception as exc:
            logger.warning("siox workers: forwarding failed: %r", exc)
            response = HttpResponse(502, [("Content-Type", "text/plain")], b"forwarding failed")
        self._answer(response)

    def _answer(self, response: HttpResponse) -> None:
        if not self.transport.is_closing():
            headers = [*response.headers, ("Connection", "close")]
            self.transport.write(write_response(response.status, headers, response.body))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """asyncio.Protocol callback."""
        if self.task is not None:
            self.task.cancel()


def take_over(protocol: Any, forwarding: Forwarding, raw: bytes) -> None:
    """Detach the front end's protocol from its transport and give the transport to forwarding."""
    protocol.connection_lost(None)  # the front end forgets the connection (timers, tables)
    forwarding.transport.set_protocol(forwarding)
    forwarding.data_received(raw)
