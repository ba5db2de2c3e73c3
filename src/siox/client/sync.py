"""`SyncClient`: the asyncio `siox.Client`, driven from blocking code through a private loop.

Nothing is implemented twice: a `SyncClient` starts an event loop in a daemon thread, builds
a `siox.Client` on it, and every blocking method runs the matching coroutine there and waits
for its result. Handlers (``on``) run on that loop thread, so they must not call the blocking
methods themselves (that raises ``RuntimeError`` rather than deadlocking).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar, overload

from ..options import ClientOptions
from .client import Client
from .socket import ClientSocket

__all__ = ["SyncClient", "SyncSocket"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
_UNSET: Any = object()


class SyncClient:
    """A blocking Socket.IO client: ``with siox.SyncClient(url) as client: ...``.

    Args:
        url: the server URL.
        **options: any `siox.Client` option (see `siox.options.ClientOptions`).

    Raises:
        TypeError: an option `siox.Client` does not have.
    """

    def __init__(self, url: str, **options: Any) -> None:
        unknown = sorted(set(options) - set(ClientOptions.__dataclass_fields__))
        if unknown:
            raise TypeError(f"SyncClient() got an unexpected keyword argument {unknown[0]!r}")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="siox-client", daemon=True)
        self._thread.start()
        self._closed = False

        async def make() -> Client:
            return Client(url, **options)

        try:
            #: The `siox.Client` running on the private loop.
            self.client: Client = self.run(make())
        except BaseException:
            self._stop()
            raise

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the client's loop and wait for its result.

        Raises:
            RuntimeError: called from the loop thread (a handler), or after `close`.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("blocking call from a handler (handlers run on the loop thread)")
        if self._closed:
            coro.close()
            raise RuntimeError("the SyncClient is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def socket(self, nsp: str = "/", **options: Any) -> SyncSocket:
        """The socket of namespace ``nsp`` (see `siox.Client.socket`)."""

        async def make() -> ClientSocket:
            return self.client.socket(nsp, **options)

        return SyncSocket(self, self.run(make()))

    def connect(
        self,
        nsp: str = "/",
        *,
        auth: Any = None,
        timeout: float | None = None,
        retry: bool = False,
    ) -> SyncSocket:
        """Shortcut: the socket of ``nsp``, connected.

        Args:
            nsp: the namespace ("/").
            auth: the CONNECT payload (None).
            timeout: seconds to wait for the connection (None: as long as it takes).
            retry: keep trying after a failed first attempt, as the reconnection settings
                say (False: raise at the first failure).

        Raises:
            NotConnected: the first attempt failed (without ``retry``); the network error
                is ``__cause__``.
            ValueError: ``nsp`` is already connected with another ``auth``.
        """
        socket = self.socket(nsp, auth=auth)
        socket.connect(timeout=timeout, retry=retry)
        return socket

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, handler: F) -> F: ...
    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register a connection event handler (see `siox.Client.on`)."""
        return self.client.on(event, handler)

    def close(self) -> None:
        """Disconnect, close the connection and stop the loop thread. Idempotent."""
        if self._closed:
            return
        try:
            self.run(self.client.close())
        finally:
            self._stop()

    def _stop(self) -> None:
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5.0)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SyncSocket:
    """The blocking face of a `siox.client.socket.ClientSocket`."""

    def __init__(self, owner: SyncClient, socket: ClientSocket) -> None:
        self._owner = owner
        #: The asynchronous socket underneath.
        self.socket = socket

    @property
    def nsp(self) -> str:
        """The namespace."""
        return self.socket.nsp

    @property
    def id(self) -> str | None:
        """The socket id while connected."""
        return self.socket.id

    @property
    def connected(self) -> bool:
        """Whether the namespace is joined."""
        return self.socket.connected

    @property
    def recovered(self) -> bool:
        """Whether the last connection restored the previous session."""
        return self.socket.recovered

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, handler: F) -> F: ...
    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register an event handler; it runs on the client's loop thread."""
        return self.socket.on(event, handler)

    @overload
    def once(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def once(self, event: str, handler: F) -> F: ...
    def once(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """See `ClientSocket.once`."""
        return self.socket.once(event, handler)

    def off(self, event: str, handler: Callable[..., Any] | None = None) -> None:
        """See `ClientSocket.off`."""
        self.socket.off(event, handler)

    def listeners(self, event: str) -> list[Callable[..., Any]]:
        """See `ClientSocket.listeners`."""
        return self.socket.listeners(event)

    def off_any(self, listener: Callable[..., Any] | None = None) -> None:
        """See `ClientSocket.off_any`."""
        self.socket.off_any(listener)

    def off_any_outgoing(self, listener: Callable[..., Any] | None = None) -> None:
        """See `ClientSocket.off_any_outgoing`."""
        self.socket.off_any_outgoing(listener)

    def send(self, *args: Any) -> None:
        """See `ClientSocket.send` (a ``"message"`` event)."""
        self._owner.run(self.socket.send(*args))

    def on_any(self, listener: F) -> F:
        """See `ClientSocket.on_any`."""
        return self.socket.on_any(listener)

    def on_any_outgoing(self, listener: F) -> F:
        """See `ClientSocket.on_any_outgoing`."""
        return self.socket.on_any_outgoing(listener)

    def connect(self, *, timeout: float | None = None, retry: bool = True) -> None:
        """See `ClientSocket.connect`."""
        self._owner.run(self.socket.connect(timeout=timeout, retry=retry))

    def emit(self, event: str, *args: Any) -> None:
        """See `ClientSocket.emit`."""
        self._owner.run(self.socket.emit(event, *args))

    def emit_with_ack(self, event: str, *args: Any, timeout: float | None = _UNSET) -> Any:
        """See `ClientSocket.emit_with_ack`."""
        if timeout is _UNSET:
            return self._owner.run(self.socket.emit_with_ack(event, *args))
        return self._owner.run(self.socket.emit_with_ack(event, *args, timeout=timeout))

    def wait_for(self, event: str, *, timeout: float | None = None) -> Any:
        """See `ClientSocket.wait_for`."""
        return self._owner.run(self.socket.wait_for(event, timeout=timeout))

    def disconnect(self) -> None:
        """See `ClientSocket.disconnect`."""
        self._owner.run(self.socket.disconnect())
