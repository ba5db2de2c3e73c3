"""What the Admin UI may ask for: ``join``, ``leave``, ``_disconnect`` and ``emit``.

Each acts through the target namespace's adapter (``sio.of(nsp).in_(filter)...``), so with a
cluster adapter it reaches the sockets of every server. ``filter`` is a socket id or a room
(a socket id is a room of one); none means the whole namespace. A namespace that does not
exist is left alone (never created from the UI's input), and arguments of the wrong type are
ignored. Read-only mode registers none of these.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..server.events import check_event_name

if TYPE_CHECKING:
    from ..server.namespace import Namespace
    from ..server.operators import BroadcastOperator
    from ..server.server import Server
    from ..server.socket import Socket

__all__ = ["FEATURES", "register_operations"]

logger = logging.getLogger("siox.admin")

#: The write features announced (socket.io v4 servers announce the bulk ``M*`` ones too).
FEATURES = ("EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT")


def _target(sio: Server, nsp: Any, filter_: Any) -> Namespace | BroadcastOperator | None:
    if not isinstance(nsp, str) or not (filter_ is None or isinstance(filter_, str)):
        return None
    namespace = sio.namespaces.get(nsp)
    if namespace is None:
        return None
    return namespace.in_(filter_) if filter_ else namespace


def register_operations(sio: Server, admin: Namespace) -> None:
    """Register the operation handlers on the admin namespace."""

    async def join(socket: Socket, nsp: Any = None, room: Any = None, filter_: Any = None) -> None:
        target = _target(sio, nsp, filter_)
        if target is not None and isinstance(room, str):
            logger.info("admin %s: sockets of %s (%s) join %r", socket.id, nsp, filter_, room)
            await target.sockets_join(room)

    async def leave(socket: Socket, nsp: Any = None, room: Any = None, filter_: Any = None) -> None:
        target = _target(sio, nsp, filter_)
        if target is not None and isinstance(room, str):
            logger.info("admin %s: sockets of %s (%s) leave %r", socket.id, nsp, filter_, room)
            await target.sockets_leave(room)

    async def disconnect(
        socket: Socket, nsp: Any = None, close: Any = False, filter_: Any = None
    ) -> None:
        target = _target(sio, nsp, filter_)
        if target is not None:
            logger.info("admin %s: sockets of %s (%s) disconnected", socket.id, nsp, filter_)
            await target.disconnect_sockets(close is True)

    async def emit(
        socket: Socket, nsp: Any = None, filter_: Any = None, event: Any = None, *args: Any
    ) -> None:
        target = _target(sio, nsp, filter_)
        if target is None or not isinstance(event, str):
            return
        try:
            check_event_name(event)
        except ValueError:
            return
        logger.info("admin %s: emit %r to %s (%s)", socket.id, event, nsp, filter_)
        await target.emit(event, *args)

    admin.on("join", join)
    admin.on("leave", leave)
    admin.on("_disconnect", disconnect)
    admin.on("emit", emit)
