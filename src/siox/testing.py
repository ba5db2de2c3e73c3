"""Test helpers: a real `siox.Server`, its clients in memory, and a clock you move by hand.

No sockets, no sleeps: `TestServer` wires a server's Engine.IO sessions to in-memory
WebSockets and to a `ManualClock`, so heartbeats, connect timeouts and recovery windows pass
when the test says so. Each `TestClient` speaks Engine.IO v4 / Socket.IO v5 with the server's
own parser, as a real client would: it is a `siox.core.ClientConnection` (the client's core
connection object) wired to the server's own (`siox.core.ServerConnection`)::

    async def test_chat() -> None:
        async with siox.testing.TestServer(sio) as server:
            alice = await server.connect(auth={"token": "a"})
            assert await alice.emit_with_ack("echo", 1) == 1
            for _ in range(3):  # pings go out and are answered; nothing else happens
                server.advance(25)
                await server.settle()  # (answers travel when the loop runs)
            assert alice.connected

Application handlers run on the test's event loop as usual; `TestServer.settle` lets them and
the in-memory deliveries run until nothing is left to do.

(Over the 400-line soft cap: the manual clock, the in-memory transport and the test client make one
public helper that users read as a whole.)
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
from collections.abc import Callable
from itertools import count
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .core.client import ClientConnection
from .core.events import ProtocolViolation
from .engineio.events import Closed, MessageReceived
from .engineio.handshake import Transport
from .engineio.outputs import WebSocketSend
from .errors import AckTimeout, ConnectionRefused, NotConnected
from .socketio.events import AckReceived, Connected, ConnectRefused, Disconnected, EventReceived

if TYPE_CHECKING:
    from .server.engine_socket import WebSocketHandle
    from .server.server import Server

__all__ = ["ManualClock", "TestClient", "TestServer"]


class _Timer:
    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when `advance` is called; timers fire in order as it moves.

    Args:
        start: the initial time (seconds).
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._heap: list[tuple[float, int, _Timer]] = []
        self._order = count()

    def time(self) -> float:
        """The current time."""
        return self.now

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> _Timer:
        """Call ``callback(*args)`` once the clock reaches ``when``."""
        timer = _Timer(when, callback, args)
        heapq.heappush(self._heap, (when, next(self._order), timer))
        return timer

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> _Timer:
        """Call ``callback(*args)`` ``delay`` seconds from now."""
        return self.call_at(self.now + delay, callback, *args)

    def create_future(self) -> asyncio.Future[Any]:
        """A future of the running event loop."""
        return asyncio.get_running_loop().create_future()

    def advance(self, seconds: float) -> None:
        """Move the clock forward, firing every timer that falls due, in time order."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        target = self.now + seconds
        heap = self._heap
        while heap and heap[0][0] <= target:
            when, _, timer = heapq.heappop(heap)
            if timer.cancelled:
                continue
            self.now = max(self.now, when)
            timer.callback(*timer.args)
        self.now = target


class _MemoryChannel:
    """The server's end of an in-memory WebSocket: messages reach the client on the next turn."""

    supports_framed = False

    def __init__(self, client: TestClient) -> None:
        self._client = client
        self._loop = asyncio.get_running_loop()

    def send(self, data: str | bytes, compress: bool = True) -> None:
        self._client.messages.append((data, compress))
        self._loop.call_soon(self._client._deliver, data)

    def send_framed(self, data: bytes) -> bool:
        return False

    def close(self, code: int = 1000) -> None:
        self._loop.call_soon(self._client._transport_closed, code)


class TestServer:
    """Serve a `siox.Server` to in-memory clients on a manual clock (an async context manager).

    Args:
        app: the server under test.
        clock: the clock its sessions run on (a new `ManualClock` by default).
        answer_timeout: real seconds a client waits for an answer before failing (a guard
            against hangs; nothing in the pair waits on real time otherwise).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self, app: Server, *, clock: ManualClock | None = None, answer_timeout: float = 5.0
    ) -> None:
        self.app = app
        self.answer_timeout = answer_timeout
        self.clock = clock if clock is not None else ManualClock()
        self.clients: list[TestClient] = []

    async def __aenter__(self) -> TestServer:
        self.app.engine.timers = self.clock
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for client in self.clients:
            client.close_transport()
        await self.settle()
        self.app.engine.timers = None

    def advance(self, seconds: float) -> None:
        """Move the server's clock (heartbeats, timeouts, recovery windows)."""
        self.clock.advance(seconds)

    async def settle(self, rounds: int = 50) -> None:
        """Let deliveries and handlers run until a few turns of the loop pass with nothing new."""
        quiet = 0
        for _ in range(rounds):
            before = sum(client._deliveries for client in self.clients)
            await asyncio.sleep(0)
            busy = any(not conn.runner.idle for conn in self.app.connections.values())
            if sum(client._deliveries for client in self.clients) == before and not busy:
                quiet += 1
                if quiet >= 3:
                    return
            else:
                quiet = 0

    async def connect(
        self,
        namespace: str = "/",
        *,
        auth: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> TestClient:
        """A new client connected to ``namespace``.

        Raises:
            ConnectionRefused: the server refused it (middleware, connect handler, unknown
                namespace), with the message and data the server sent.
        """
        client = await self.open(headers=headers, query=query)
        await client._join(namespace, auth)
        return client

    async def open(self, *, headers: dict[str, str] | None = None, query: str = "") -> TestClient:
        """A new client with an Engine.IO session that has joined no namespace yet."""
        client = TestClient(self)
        self.clients.append(client)
        await client._open(headers or {}, query)
        await self.settle()
        return client

    async def join(
        self, client: TestClient, namespace: str = "/", *, auth: dict[str, Any] | None = None
    ) -> None:
        """Make ``client`` (from `open`) join ``namespace``."""
        await client._join(namespace, auth)


class TestClient:
    """One in-memory client of a `TestServer`: one Engine.IO session, one namespace."""

    __test__ = False

    def __init__(self, server: TestServer) -> None:
        self.server = server
        #: the socket id the server gave
        self.id: str | None = None
        self.namespace = "/"
        self.connected = False
        #: every event received, as (name, args), in order
        self.received: list[tuple[str, tuple[Any, ...]]] = []
        #: every Engine.IO message the server wrote, with whether it may be compressed (False
        #: for what was sent with ``compress(False)``), in order
        self.messages: list[tuple[str | bytes, bool]] = []
        #: the close code when the server closed the transport
        self.close_code: int | None = None
        #: whether the client answers the server's pings (set False to play a dead peer)
        self.answers_pings = True
        #: recovery: the private session id and the offset of the last event received
        self.pid: str | None = None
        self.last_offset: str | None = None
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._ack_ids = count()
        self._waiters: list[tuple[str, asyncio.Future[tuple[Any, ...]]]] = []
        self._joined: asyncio.Future[Connected] | None = None
        self._handle: WebSocketHandle | None = None
        self._deliveries = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._core = ClientConnection(
            parser=server.app.parser_for(5), now=server.clock.time(), transport=Transport.WEBSOCKET
        )
        self._connection = self._core.socketio

    # -- the engine -------------------------------------------------------------------------------

    async def _open(self, headers: dict[str, str], query: str) -> None:
        from .server.http_types import HttpRequest

        engine = self.server.app.engine
        request = HttpRequest(
            "GET",
            engine.path,
            "EIO=4&transport=websocket" + (f"&{query}" if query else ""),
            {"host": "testserver", **{k.lower(): v for k, v in headers.items()}},
            address="127.0.0.1",
        )
        plan = await engine.check_websocket(request)
        if not hasattr(plan, "decision"):
            raise ConnectionRefused(f"handshake refused: HTTP {plan.status}", plan.body)
        self._core.attach_websocket(self.server.clock.time())
        self._handle = engine.open_websocket(plan, _MemoryChannel(self))  # type: ignore[arg-type]
        self._pump()

    def _send(self, messages: list[str | bytes]) -> None:
        if self._handle is None:
            raise NotConnected("the client is closed")
        for message in messages:
            self._core.send(message)
        self._pump()

    def _deliver(self, data: str | bytes) -> None:
        self._deliveries += 1
        events = self._core.receive_ws_message(data, self.server.clock.time())
        if events is not None:  # the fast path's, decoded at once: nothing to pump
            self._receive(events)
            return
        self._pump()

    def _pump(self) -> None:
        """Perform the client core's outputs (frames to the server) and take its events.

        No timer is armed for the client: its deadlines fire when a message arrives late,
        and the server's clock decides the rest.
        """
        core = self._core
        while (pending := core.drain()) is not None:
            outputs, events = pending
            for output in outputs:
                if type(output) is WebSocketSend and self._handle is not None:
                    if output.frame == "3" and not self.answers_pings:
                        continue  # a dead peer: the PONG is lost
                    self._handle.receive(output.frame)
            for event in events:
                if type(event) is MessageReceived:
                    self._receive(core.decode(event.data))
                elif type(event) is Closed:
                    self._lost()

    def _receive(self, events: Any) -> None:
        for event in events:
            if isinstance(event, ProtocolViolation):
                self._lost()
                return
            if isinstance(event, EventReceived):
                self._on_event(event)
            elif isinstance(event, AckReceived):
                future = self._acks.pop(event.ack_id, None)
                if future is not None and not future.done():
                    future.set_result(event.args)
            elif isinstance(event, Connected | ConnectRefused):
                if self._joined is not None and not self._joined.done():
                    if isinstance(event, Connected):
                        self._joined.set_result(event)
                    else:
                        self._joined.set_exception(ConnectionRefused(event.message, event.data))
            elif isinstance(event, Disconnected):
                self._lost()

    def _transport_closed(self, code: int) -> None:
        self.close_code = code
        self._handle = None
        self._lost()

    def _lost(self) -> None:
        self.connected = False
        for future in self._acks.values():
            if not future.done():
                future.set_exception(NotConnected("disconnected"))
        self._acks.clear()

    # -- the namespace ----------------------------------------------------------------------------

    async def _join(self, namespace: str, auth: dict[str, Any] | None) -> None:
        self.namespace = namespace
        self._joined = asyncio.get_running_loop().create_future()
        self._send(self._connection.connect(namespace, auth))
        connected = await self._wait(self._joined)
        self.id = connected.sid
        self.pid = connected.pid
        self.connected = True

    async def _wait(self, future: asyncio.Future[Any]) -> Any:
        # A safety net, not a sleep: a server that never answers fails the test after a
        # while instead of hanging it.
        try:
            return await asyncio.wait_for(future, self.server.answer_timeout)
        except TimeoutError:
            raise AckTimeout(
                f"no answer from the server within {self.server.answer_timeout} s of real time "
                "(a handler waiting on the manual clock needs server.advance())"
            ) from None

    def _on_event(self, event: EventReceived) -> None:
        name, args = event.args[0], tuple(event.args[1:])
        if self.pid is not None and args and isinstance(args[-1], str):
            # As socket.io-client: with recovery on, the last argument is the offset.
            self.last_offset = args[-1]
        self.received.append((name, args))
        for item in list(self._waiters):
            if item[0] == name and not item[1].done():
                item[1].set_result(args)
                self._waiters.remove(item)
                break
        handler = self._handlers.get(name)
        if handler is None:
            return
        result = handler(*args)
        if inspect.iscoroutine(result):
            task = asyncio.get_running_loop().create_task(self._finish(result, event.ack_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif event.ack_id is not None:
            self._ack(event.ack_id, result)

    async def _finish(self, coro: Any, ack_id: int | None) -> None:
        result = await coro
        if ack_id is not None:
            self._ack(ack_id, result)

    def _ack(self, ack_id: int, result: Any) -> None:
        args = [] if result is None else list(result) if type(result) is tuple else [result]
        self._send(self._connection.ack(self.namespace, ack_id, args))

    # -- the API ----------------------------------------------------------------------------------

    def on(self, event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: ``handler(*args)`` for ``event``; its return value is the ack."""

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            self._handlers[event] = handler
            return handler

        return register

    async def emit(self, event: str, *args: Any) -> None:
        """Send ``event`` to the server."""
        if not self.connected:
            raise NotConnected("the client is not connected")
        self._send(self._connection.event(self.namespace, [event, *args]))

    async def emit_with_ack(self, event: str, *args: Any) -> Any:
        """Send ``event`` and return the server's ack: None, the value, or a tuple.

        Raises:
            AckTimeout: the server's handler did not answer within a few turns of the loop.
            NotConnected: the client is (or got) disconnected.
        """
        if not self.connected:
            raise NotConnected("the client is not connected")
        ack_id = next(self._ack_ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        self._send(self._connection.event(self.namespace, [event, *args], ack_id))
        args_back: list[Any] = await self._wait(future)
        if not args_back:
            return None
        return args_back[0] if len(args_back) == 1 else tuple(args_back)

    async def wait_for(self, event: str) -> tuple[Any, ...]:
        """The arguments of the next ``event`` the server sends (or the first one unread)."""
        for index, (name, unread) in enumerate(self.received):
            if name == event:
                del self.received[index]
                return unread
        future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()
        self._waiters.append((event, future))
        args: tuple[Any, ...] = await self._wait(future)
        self.received.remove((event, args))
        return args

    def session(self) -> dict[str, Any]:
        """The ``auth`` that asks the server to restore this session (connection state recovery)."""
        if self.pid is None:
            raise RuntimeError("the server did not offer recovery (connection_state_recovery)")
        return {"pid": self.pid, "offset": self.last_offset}

    def events(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of every ``name`` event received so far."""
        return [args for event, args in self.received if event == name]

    async def disconnect(self) -> None:
        """Leave the namespace (the server sees ``client namespace disconnect``)."""
        if self.connected:
            self._send(self._connection.disconnect(self.namespace))
            self._lost()
        await self.server.settle()

    def close_transport(self) -> None:
        """Drop the connection as a network failure would (``transport close``)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.closed()
        self._lost()
