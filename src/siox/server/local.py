"""`LocalSocketSet`: one namespace's sockets in this process, as the adapter contract sees them.

This is the server's implementation of `siox.adapters.LocalSockets`: the socket table and room
index of one namespace, and the three things an adapter may ask of local sockets — send one
packet to many (encoded once per parser and protocol, framed once per Engine.IO revision), send
with acks, disconnect — and the hook through which a cluster adapter delivers events from other
servers to the namespace's server-side handlers (``sio.on_server_side``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any

from ..adapters.base import AckReply, BroadcastOptions, FetchedSocket
from ..parser import Packet
from ..socketio.rooms import RoomIndex
from .outgoing import Outgoing
from .socket import Socket

__all__ = ["LocalSocketSet"]

logger = logging.getLogger("siox")


class LocalSocketSet:
    """The sockets of namespace ``name`` held by this process, with their room index."""

    __slots__ = ("_tasks", "by_id", "name", "rooms", "server_side_handlers")

    def __init__(self, name: str) -> None:
        self.name = name
        self.rooms = RoomIndex()
        #: connected sockets by id
        self.by_id: dict[str, Socket] = {}
        #: handlers of events from other servers, by event name (``handler(*args)``)
        self.server_side_handlers: dict[str, Callable[..., Any]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()

    def __len__(self) -> int:
        return len(self.by_id)

    def send(self, sids: Iterable[str], packet: Packet, opts: BroadcastOptions) -> None:
        """Write ``packet`` to each connected socket of ``sids``, encoded once per parser."""
        by_id = self.by_id
        encoded: dict[Any, Outgoing] = {}
        for sid in sids:
            socket = by_id.get(sid)
            if socket is None:
                continue
            driver = socket.driver
            key = driver.parser_key
            outgoing = encoded.get(key)
            if outgoing is None:
                outgoing = encoded[key] = Outgoing(
                    driver.encode(packet), volatile=opts.volatile, compress=opts.compress
                )
            if socket.namespace.any_outgoing_listeners:
                socket.notify_outgoing(packet.data)
            socket.write_outgoing(outgoing)

    def send_with_ack(
        self,
        sids: Iterable[str],
        packet: Packet,
        on_reply: AckReply,
        timeout: float | None = None,
    ) -> list[str]:
        """Send ``packet`` with an ack id to each connected socket; return the ids sent to.

        With ``timeout``, the sockets forget the acks they still wait for once it passes (one
        timer for the whole broadcast), so unanswered broadcasts leave nothing behind.
        """
        by_id = self.by_id
        sent: list[str] = []
        waiting: list[tuple[Socket, int]] = []
        for sid in sids:
            socket = by_id.get(sid)
            if socket is None:
                continue
            ack_id = socket.send_with_ack_callback(packet, on_reply)
            if ack_id is not None:
                sent.append(sid)
                waiting.append((socket, ack_id))
        if timeout is not None and waiting:
            waiting[0][0].driver.timers.call_later(timeout, _forget_acks, waiting)
        return sent

    def disconnect(self, sids: Iterable[str], close: bool) -> None:
        """Disconnect each socket of ``sids``."""
        for socket in [s for sid in sids if (s := self.by_id.get(sid)) is not None]:
            socket.disconnect_now(close)

    def sockets(self, sids: Iterable[str]) -> list[FetchedSocket]:
        """The sockets of ``sids`` that are here."""
        by_id = self.by_id
        return [socket for sid in sids if (socket := by_id.get(sid)) is not None]

    def server_side_event(self, args: list[Any], ack: Callable[[Any], None] | None) -> None:
        """Run the server-side handler of ``args[0]`` with ``args[1:]``; its result is the ack.

        No handler: nothing is sent back (the sender counts the reply as missing). A handler
        that raises is logged and sends nothing back.
        """
        handler = self.server_side_handlers.get(args[0]) if args else None
        if handler is None:
            logger.debug("no server-side handler for %r on %s", args[:1], self.name)
            return
        try:
            result = handler(*args[1:])
        except Exception:
            logger.exception("error in the server-side handler of %r on %s", args[0], self.name)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(self._finish(args[0], result, ack))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif ack is not None:
            ack(result)

    async def _finish(self, event: str, result: Any, ack: Callable[[Any], None] | None) -> None:
        try:
            value = await result
        except Exception:
            logger.exception("error in the server-side handler of %r on %s", event, self.name)
            return
        if ack is not None:
            ack(value)


def _forget_acks(waiting: list[tuple[Socket, int]]) -> None:
    for socket, ack_id in waiting:
        socket.forget_ack(ack_id)
