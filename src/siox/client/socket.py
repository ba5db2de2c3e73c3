"""`ClientSocket`: the application's handle on one namespace of a `siox.Client` connection.

Semantics of socket.io-client 4.8's ``Socket``:

* handlers are registered with `ClientSocket.on` (one per event); a handler's return value
  acknowledges the server's event when it asked for an ack (``None``: no arguments, a tuple:
  several). ``connect``, ``connect_error`` and ``disconnect`` are local events.
* what the socket sends (emits, acks awaited, the offline buffer, ``retries``) is the mixin
  `siox.client.emitter.ClientEmitter`; on a disconnect, acks of packets already sent fail with
  `NotConnected`, buffered packets keep theirs.
* connection state recovery: the ``pid`` of the CONNECT reply and the last string argument of
  every event received without an ack (the server's offset) are kept and sent back in the
  CONNECT payload; `ClientSocket.recovered` tells whether the server restored the session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ConnectionRefused, NotConnected
from ..parser import RESERVED_EVENTS
from .emitter import ClientEmitter, unpack_reply
from .handlers import EventHandlers
from .listeners import run_listener

if TYPE_CHECKING:
    from .client import Client

__all__ = ["LOCAL_EVENTS", "ClientSocket", "unpack_reply"]

logger = logging.getLogger("siox.client")

F = TypeVar("F", bound=Callable[..., Any])
#: The socket's own events (the server may not send these names).
LOCAL_EVENTS = frozenset({"connect", "connect_error", "disconnect"})
#: Why ``auth`` on "/" is refused with ``protocol=4``.
LEGACY_MAIN_AUTH = (
    "with protocol=4 the main namespace '/' is joined by the Engine.IO handshake, which has no "
    "auth: pass the credentials as query={...} to the client (socket.io-client 2.x's query "
    "option); other namespaces send their auth as their query string"
)
#: The most events held between a CONNECT and its reply.
MAX_HELD_EVENTS = 10_000


class ClientSocket(ClientEmitter, EventHandlers):
    """One namespace of a client connection. Made by `siox.Client.socket`.

    Attributes:
        client: the `siox.Client` (the connection) this socket multiplexes over.
        nsp: the namespace.
        auth: the CONNECT payload: a dict, None, or a callable (sync or async) returning one,
            called again for every (re)connection.
        id: the socket id while connected, else None.
        connected: whether the namespace is joined.
        recovered: whether the last connection restored the previous session.
        active: whether the socket wants to be connected (it reconnects with the client).
    """

    def __init__(
        self,
        client: Client,
        nsp: str,
        auth: Any,
        *,
        retries: int,
        ack_timeout: float | None,
    ) -> None:
        if auth is not None and not callable(auth) and not isinstance(auth, dict):
            raise TypeError("auth must be a dict, a callable returning one, or None")
        self.client = client
        self.nsp = nsp
        self.auth = auth
        self.id: str | None = None
        self.connected = False
        self.recovered = False
        self.active = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: str | None = None
        self._offset: str | None = None
        self.init_handlers()
        self._waiters: dict[Any, list[asyncio.Future[list[Any]]]] = {}
        self._received: list[tuple[list[Any], int | None]] = []
        self.init_emitter(retries=retries, ack_timeout=ack_timeout)
        self._connect_waiters: list[asyncio.Future[None]] = []
        self._connect_timer: asyncio.TimerHandle | None = None
        self._retry_connect = True
        self.tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"<ClientSocket {self.nsp} id={self.id} connected={self.connected}>"

    # -- connecting ----------------------------------------------------------------------------

    async def connect(self, *, timeout: float | None = None, retry: bool = True) -> None:
        """Join the namespace (opening the connection if needed) and wait until joined.

        Each failed attempt emits ``connect_error`` and is logged as a warning with its
        cause. With ``retry`` (the default here), failed attempts are retried as the
        client's reconnection settings say; without it, the first failure raises
        (``siox.connect`` and ``SyncClient.connect`` default to ``retry=False``).

        Raises:
            ConnectionRefused: the server refused the namespace (its message and data).
            NotConnected: the client gave up (reconnection off or exhausted), or
                ``disconnect`` was called meanwhile; a network cause (``OSError``, TLS
                errors) is chained as ``__cause__``.
            ProtocolError: the client gave up after a protocol failure, such as
                `HandshakeError` for an HTTP refusal or a redirect (never followed).
            TimeoutError: not joined within ``timeout`` seconds; the socket stops trying.
            ValueError: ``auth`` on ``"/"`` with ``protocol=4`` (use the client's ``query``).
        """
        if self.connected:
            return
        if self.auth and not callable(self.auth) and self.nsp == "/" and self.client.protocol < 5:
            raise ValueError(LEGACY_MAIN_AUTH)  # before the session opens and joins "/"
        self._retry_connect = retry
        loop = self._loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._connect_waiters.append(waiter)
        self.active = True
        self.client.socket_activated(self)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except TimeoutError:
            if self.is_connected():
                return
            await self.disconnect()
            raise TimeoutError(f"could not join {self.nsp!r} within {timeout:g} s") from None
        finally:
            if waiter in self._connect_waiters:
                self._connect_waiters.remove(waiter)

    async def disconnect(self) -> None:
        """Leave the namespace (telling the server) and stop reconnecting it."""
        was_connected = self.connected
        if was_connected:
            self.client.leave(self.nsp)
        self._stop_connect_timer()
        if self.active:
            self.active = False
            self.client.socket_deactivated(self)
        if was_connected:
            self.on_closed("io client disconnect", None)
        self._fail_connect(NotConnected("disconnect() was called"))

    # -- waiting for events --------------------------------------------------------------------

    async def wait_for(self, event: str, *, timeout: float | None = None) -> Any:
        """Wait for the next ``event`` from the server; return its arguments as acks are.

        Raises:
            TimeoutError: it did not come within ``timeout`` seconds.
        """
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(event, [])
        waiters.append(future)
        try:
            async with asyncio.timeout(timeout):
                args = await future
        except TimeoutError:
            raise TimeoutError(f"no {event!r} event within {timeout:g} s") from None
        finally:
            if future in waiters:
                waiters.remove(future)
        return unpack_reply(args)

    # -- what the client reports -----------------------------------------------------------------

    def on_open(self) -> None:
        """The connection is open: send CONNECT (calling ``auth`` first if it is callable)."""
        auth = self.auth
        if not callable(auth):
            self._send_connect(auth)
            return
        try:
            result = auth()
        except Exception as exc:
            logger.exception("the auth callable of %r failed", self.nsp)
            self._refused(exc)
            return
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            task = asyncio.get_running_loop().create_task(self._connect_later(result))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        else:
            self._send_connect(result)

    async def _connect_later(self, pending: Any) -> None:
        engine = self.client.engine
        try:
            data = await pending
        except Exception as exc:
            logger.exception("the auth callable of %r failed", self.nsp)
            self._refused(exc)
            return
        if self.active and not self.connected and self.client.engine is engine:
            self._send_connect(data)

    def _send_connect(self, data: Any) -> None:
        if data is not None and not isinstance(data, dict):
            self._refused(TypeError("auth must give a dict or None"))
            return
        if data and self.nsp == "/" and self.client.protocol < 5:
            self._refused(ValueError(LEGACY_MAIN_AUTH))
            return
        if self._pid is not None:
            recovery: dict[str, Any] = {"pid": self._pid}
            if self._offset is not None:
                recovery["offset"] = self._offset
            data = {**recovery, **(data or {})}
        if self.client.join(self.nsp, data):
            self._stop_connect_timer()
            self._connect_timer = asyncio.get_running_loop().call_later(
                self.client.timeout, self.client.namespace_timed_out, self
            )

    def _stop_connect_timer(self) -> None:
        if self._connect_timer is not None:
            self._connect_timer.cancel()
            self._connect_timer = None

    def on_connected(self, sid: str, pid: str | None) -> None:
        """The server accepted the namespace."""
        self._stop_connect_timer()
        self.id = sid
        self.recovered = pid is not None and pid == self._pid
        self._pid = pid
        self.connected = True
        received, self._received = self._received, []
        for args, ack_id in received:
            if self.connected:
                self.on_event(args, ack_id)
        buffered, self._buffer = self._buffer, []
        for item in buffered:
            if self._any_outgoing:
                self._notify_outgoing(item.payload)
            self.client.send(item.messages)
        self._queue.drain(force=True)
        self.emit_local("connect")
        for waiter in self._connect_waiters:
            if not waiter.done():
                waiter.set_result(None)

    def on_refused(self, message: str, data: Any) -> None:
        """The server refused the namespace (CONNECT_ERROR): stop trying."""
        self._refused(ConnectionRefused(message, data))

    def _refused(self, error: BaseException) -> None:
        self._stop_connect_timer()
        if self.active:
            self.active = False
            self.client.socket_deactivated(self)
        self.emit_local("connect_error", error)
        self._fail_connect(error)

    def on_connect_error(self, error: BaseException) -> None:
        """An attempt to connect failed; the client may try again (unless ``retry=False``)."""
        self._stop_connect_timer()
        self.emit_local("connect_error", error)
        self._maybe_stop_trying(error)

    def _maybe_stop_trying(self, error: BaseException) -> None:
        """``connect(retry=False)``: the first failure ends the attempt and raises ``error``."""
        if self._retry_connect or not self._connect_waiters or self.connected:
            return
        if self.active:
            self.active = False
            self.client.socket_deactivated(self)
        self._fail_connect(error)

    def give_up(self, error: BaseException) -> None:
        """The client stopped trying: ``connect()`` callers get ``error``."""
        self._fail_connect(error)

    def _fail_connect(self, error: BaseException) -> None:
        waiters, self._connect_waiters = self._connect_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(error)

    def on_server_disconnect(self) -> None:
        """The server sent DISCONNECT: leave and do not reconnect."""
        if self.active:
            self.active = False
            self.client.socket_deactivated(self)
        self.on_closed("io server disconnect", None)

    def on_closed(
        self, reason: str, description: str | None, error: BaseException | None = None
    ) -> None:
        """The namespace (or the whole connection) is gone; ``error`` says why, if known."""
        self._stop_connect_timer()
        was_connected = self.connected
        self.connected = False
        self.id = None
        self._received.clear()
        if was_connected:
            self.emit_local("disconnect", reason, description)
        elif self.active:
            failure = error or NotConnected(f"connection closed: {reason}")
            self.emit_local("connect_error", failure)
            self._maybe_stop_trying(failure)
        self._acks.fail_sent(
            (item.ack_id for item in self._buffer), NotConnected("the socket was disconnected")
        )

    def hold_event(self, args: list[Any], ack_id: int | None) -> None:
        """Hold an event that came before the CONNECT reply; deliver it once connected.

        A server restoring a session sends the missed packets first; socket.io-client
        buffers them the same way.
        """
        if len(self._received) >= MAX_HELD_EVENTS:
            logger.warning("dropped an event received before %r was joined", self.nsp)
            return
        self._received.append((args, ack_id))

    def on_event(self, args: list[Any], ack_id: int | None) -> None:
        """An event from the server (``args[0]`` is its name)."""
        name = args[0]
        if type(name) is str and name in RESERVED_EVENTS:
            logger.warning("dropped an event with the reserved name %r from the server", name)
            return
        data = args[1:]
        for listener in self._any:
            run_listener(listener, args, name="any", tasks=self.tasks)
        if self._waiters:
            waiters = self._waiters.pop(name, None)
            for waiter in waiters or ():
                if not waiter.done():
                    waiter.set_result(data)
        handler = self._handler(name)
        if handler is not None:
            if ack_id is None:
                run_listener(handler, data, name=str(name), tasks=self.tasks)
            else:
                run_listener(
                    handler,
                    data,
                    name=str(name),
                    tasks=self.tasks,
                    on_result=lambda value: self._send_ack(ack_id, value),
                )
        if self._pid is not None and ack_id is None and len(args) > 1 and type(args[-1]) is str:
            self._offset = args[-1]  # socket.io-client's rule for the recovery offset

    def emit_local(self, event: str, *args: Any) -> None:
        """Run the handler of a local event (``connect``, ``disconnect``...)."""
        handler = self._handler(event)
        if handler is not None:
            run_listener(handler, args, name=event, tasks=self.tasks)
