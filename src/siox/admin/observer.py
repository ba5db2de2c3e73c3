"""`AdminObserver`: what an instrumented server tells the Admin UI as things happen.

In both modes it counts connections, disconnections (by reason), packets and bytes for
``server_stats``. In development mode it also reports each socket's connection, disconnection,
upgrade (``socket_updated``), room changes and every event received or sent, as the reference
does; the admin namespace's own events are not reported.

What it reports goes out through the admin namespace (its adapter: every UI connected to any
server of a cluster hears it) in the order it happened, from one task at a time; nothing runs
for a server that is not instrumented.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from ..server.observer import ServerObserver
from .serialize import ADMIN_KEY, client_id, json_safe, now_iso, serialize_socket
from .stats import EventBuffer

if TYPE_CHECKING:
    from ..server.engine_api import EngineConnection
    from ..server.namespace import Namespace
    from ..server.server import Server
    from ..server.socket import Socket

__all__ = ["AdminObserver"]

logger = logging.getLogger("siox.admin")


def _size(message: str | bytes) -> int:
    return len(message) if isinstance(message, bytes) else len(message.encode())


class AdminObserver(ServerObserver):
    """The Admin UI's view of one server.

    Args:
        sio: the server.
        admin: the admin namespace.
        verbose: development mode (report sockets, rooms and events one by one).
    """

    def __init__(self, sio: Server, admin: Namespace, *, verbose: bool) -> None:
        self.sio = sio
        self.admin = admin
        self.verbose = verbose
        self.events = EventBuffer()
        #: the Engine.IO sessions still on long-polling
        self.polling: set[str] = set()
        self._queue: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._sender: asyncio.Task[None] | None = None

    # -- sending, in order, off the server's path ------------------------------------------------

    def send(self, event: str, *args: Any) -> None:
        """Emit ``event`` to the admin namespace soon (in order with what came before)."""
        self._queue.append((event, args))
        if self._sender is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self._queue.clear()
                return
            self._sender = loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._queue:
                event, args = self._queue.popleft()
                try:
                    await self.admin.emit(event, *args)
                except Exception:
                    logger.exception("could not send %r to the Admin UI", event)
        finally:
            self._sender = None

    async def flush(self) -> None:
        """Wait until everything queued is sent."""
        while self._sender is not None:
            await asyncio.shield(self._sender)

    # -- the engine (both modes) -------------------------------------------------------------------

    def connection_opened(self, conn: EngineConnection) -> None:
        """Count it; note whether it is polling."""
        self.events.push("rawConnection")
        if conn.transport == "polling":
            self.polling.add(conn.sid)

    def connection_upgraded(self, conn: EngineConnection) -> None:
        """It is no longer polling; its sockets changed transport."""
        self.polling.discard(conn.sid)
        if not self.verbose:
            return
        driver = self.sio.connections.get(conn.sid)
        for socket in list(driver.sockets.values()) if driver is not None else ():
            admin = socket.data.get(ADMIN_KEY)
            if isinstance(admin, dict):
                admin["transport"] = conn.transport
            self.send(
                "socket_updated", {"id": socket.id, "nsp": socket.nsp, "transport": conn.transport}
            )

    def connection_closed(self, conn: EngineConnection, reason: str) -> None:
        """Count it, by reason."""
        self.polling.discard(conn.sid)
        self.events.push("rawDisconnection", reason)

    def message_received(self, conn: EngineConnection, data: str | bytes) -> None:
        """Count the packet and its bytes."""
        self.events.push("packetsIn")
        self.events.push("bytesIn", None, _size(data))

    def messages_sent(self, conn: EngineConnection, messages: list[str | bytes]) -> None:
        """Count the packets and their bytes."""
        self.events.push("packetsOut", None, len(messages))
        self.events.push("bytesOut", None, sum(_size(m) for m in messages))

    # -- sockets, rooms, events (development mode) -------------------------------------------------

    def socket_connected(self, socket: Socket) -> None:
        """Report the new socket (and note its client and transport for other servers)."""
        if not self.verbose:
            return
        socket.data[ADMIN_KEY] = {
            "clientId": client_id(socket.conn.sid),
            "transport": socket.transport,
        }
        self.send("socket_connected", serialize_socket(socket, socket.nsp), now_iso())

    def socket_disconnected(self, socket: Socket, reason: str) -> None:
        """Report it gone."""
        if self.verbose:
            self.send("socket_disconnected", socket.nsp, socket.id, reason, now_iso())

    def watch_namespace(self, namespace: Namespace) -> None:
        """Report the rooms and (unless it is the admin namespace) events of ``namespace``."""
        name = namespace.name
        rooms = namespace.local_sockets.rooms
        # The index has one slot: whoever watched it before (a second Admin UI, say) still hears.
        before = rooms.listener

        def rooms_changed(room: str, sid: str, joined: bool) -> None:
            if before is not None:
                before(room, sid, joined)
            self.send("room_joined" if joined else "room_left", name, room, sid, now_iso())

        rooms.listener = rooms_changed
        if namespace is self.admin:
            return
        # The lists may be shared by the children of a dynamic rule: one entry each.
        if self._received not in namespace.any_listeners:
            namespace.any_listeners.append(self._received)
        if self._sent not in namespace.any_outgoing_listeners:
            namespace.any_outgoing_listeners.append(self._sent)

    def _received(self, socket: Socket, *args: Any) -> None:
        self.send("event_received", socket.nsp, socket.id, json_safe(list(args)), now_iso())

    def _sent(self, socket: Socket, *args: Any) -> None:
        self.send("event_sent", socket.nsp, socket.id, json_safe(list(args)), now_iso())
