"""`instrument`: serve the server side of the Socket.IO Admin UI (npm ``@socket.io/admin-ui``).

The admin namespace refuses every connection without the right credentials (with exactly
``invalid credentials``, which the UI shows); a good login gets a ``session`` id the UI
reconnects with. Each admin socket then gets ``config`` (the features the UI may offer),
and in development mode ``all_sockets``; every 2 seconds each server emits its ``server_stats``
to the admin namespace.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket as _socket
import time
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConnectionRefused
from ..server.observer import ServerObserver
from .auth import parse_auth
from .observer import AdminObserver
from .operations import FEATURES, register_operations
from .serialize import serialize_socket
from .stores import InMemoryStore, SessionStore

if TYPE_CHECKING:
    from ..server.engine_api import EngineConnection
    from ..server.server import Server
    from ..server.socket import Socket

__all__ = ["AdminUI", "instrument"]

logger = logging.getLogger("siox.admin")

#: Seconds between two ``server_stats`` (the reference's 2 s; the UI expects it).
STATS_INTERVAL = 2.0
_UNSET: Any = object()


def _process_age() -> float:
    """Seconds since this process started (Linux: /proc; elsewhere 0: since instrumented)."""
    try:
        with open("/proc/self/stat", "rb") as stat, open("/proc/uptime", "rb") as uptime:
            start_ticks = int(stat.read().rsplit(b")", 1)[1].split()[19])
            system_uptime = float(uptime.read().split()[0])
        return max(0.0, system_uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


class AdminUI:
    """An instrumented server's admin side (what `instrument` returns).

    Attributes:
        namespace: the admin namespace.
        server_id: the name this server reports under.
        supported_features: what ``config`` announces.
        observer: the `AdminObserver` watching the server.
    """

    def __init__(
        self,
        sio: Server,
        *,
        auth: Any,
        namespace_name: str,
        mode: Literal["development", "production"],
        read_only: bool,
        server_id: str | None,
        store: SessionStore | None,
        stats_interval: float,
    ) -> None:
        if mode not in ("development", "production"):
            raise ValueError(f"mode is 'development' or 'production', not {mode!r}")
        self.sio = sio
        self.auth = parse_auth(auth)
        if self.auth is None:
            logger.warning("the Admin UI is served without authentication")
        self.store: SessionStore = store if store is not None else InMemoryStore()
        self.namespace = sio.of(namespace_name)
        if self.namespace.middlewares or self.namespace.handlers:
            raise ValueError(f"{namespace_name} is in use (instrumented already?)")
        self.server_id = server_id or _socket.gethostname()
        self.stats_interval = stats_interval
        self.verbose = mode == "development"
        features = [] if read_only else list(FEATURES)
        features.append("AGGREGATED_EVENTS")
        if self.verbose:
            features.append("ALL_EVENTS")
        self.supported_features = features
        self.observer = AdminObserver(sio, self.namespace, verbose=self.verbose)
        self._started = time.monotonic() - _process_age()
        self._timer: asyncio.TimerHandle | None = None
        self._new_sessions: dict[str, str] = {}

        self.namespace.use(self._authenticate)
        self.namespace.on("connect", self._connected)
        if not read_only:
            register_operations(sio, self.namespace)
        if self.verbose:
            for namespace in list(sio.namespaces.values()):
                self.observer.watch_namespace(namespace)
            sio.on("new_namespace", self.observer.watch_namespace)
        sio.add_observer(self.observer)
        sio.add_observer(_Lifecycle(self))
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # started by the first connection
        else:
            self.start()

    # -- login ---------------------------------------------------------------------------------

    async def _authenticate(self, socket: Socket, auth: dict[str, Any]) -> None:
        if self.auth is None:
            return
        session_id = auth.get("sessionId")
        if (
            isinstance(session_id, str)
            and session_id
            and await self.store.session_exists(session_id)
        ):
            return
        if await self.auth.check(auth.get("username"), auth.get("password")):
            session_id = secrets.token_hex(16)
            await self.store.save_session(session_id)
            if len(self._new_sessions) >= 1000:  # logins whose connection never completed
                self._new_sessions.clear()
            self._new_sessions[socket.id] = session_id
            return
        raise ConnectionRefused("invalid credentials")

    async def _connected(self, socket: Socket) -> None:
        session_id = self._new_sessions.pop(socket.id, None)
        if session_id is not None:
            await socket.emit("session", session_id)
        await socket.emit("config", {"supportedFeatures": self.supported_features})
        if self.verbose:
            await socket.emit("all_sockets", await self.all_sockets())

    async def all_sockets(self) -> list[dict[str, Any]]:
        """Every socket of every namespace, on every server (through the adapters)."""
        found: list[dict[str, Any]] = []
        for namespace in list(self.sio.namespaces.values()):
            try:
                sockets = await namespace.fetch_sockets()
            except Exception:
                logger.exception("could not fetch the sockets of %s", namespace.name)
                continue
            found += [serialize_socket(s, namespace.name) for s in sockets]
        return found

    # -- server_stats --------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """This server's ``server_stats`` (the counters since the last call are taken)."""
        observer = self.observer
        return {
            "serverId": self.server_id,
            "hostname": _socket.gethostname(),
            "pid": os.getpid(),
            "uptime": time.monotonic() - self._started,
            "clientsCount": len(self.sio.engine.sessions),
            "pollingClientsCount": len(observer.polling),
            "aggregatedEvents": observer.events.take(),
            "namespaces": [
                {"name": ns.name, "socketsCount": len(ns.sockets)}
                for ns in list(self.sio.namespaces.values())
            ],
        }

    def start(self) -> None:
        """Start the ``server_stats`` timer (on the running loop); idempotent."""
        if self._timer is None:
            self._tick()

    def _tick(self) -> None:
        self.observer.send("server_stats", self.stats())
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.stats_interval, self._tick)

    def close(self) -> None:
        """Stop the ``server_stats`` timer (the server shuts down)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _Lifecycle(ServerObserver):
    """Starts the stats timer with the first connection when instrumented before the loop ran."""

    def __init__(self, admin: AdminUI) -> None:
        self.admin = admin

    def connection_opened(self, conn: EngineConnection) -> None:
        self.admin.start()

    def server_closed(self) -> None:
        self.admin.close()


def instrument(
    sio: Server,
    *,
    auth: Any = _UNSET,
    namespace_name: str = "/admin",
    mode: Literal["development", "production"] = "development",
    read_only: bool = False,
    server_id: str | None = None,
    store: SessionStore | None = None,
    stats_interval: float = STATS_INTERVAL,
) -> AdminUI:
    """Serve the Admin UI's server side on ``sio``.

    Args:
        sio: the server to instrument.
        auth: ``{"type": "basic", "username": ..., "password": <bcrypt hash>}``, or ``None``
            to serve the UI without authentication; required (there is no default).
        namespace_name: the admin namespace (``"/admin"``).
        mode: ``"development"`` reports every socket, room change and event;
            ``"production"`` only the aggregated ``server_stats``.
        read_only: announce and accept no operation (join, leave, disconnect, emit).
        server_id: the name this server reports under (the host name by default; give each
            server of a cluster its own).
        store: where login sessions are kept (`InMemoryStore`; `RedisStore` for a cluster).
        stats_interval: seconds between two ``server_stats`` (2, what the UI expects).

    Returns:
        The `AdminUI`.

    Raises:
        TypeError: ``auth`` missing, or not a mapping.
        ValueError: a bad ``auth`` (the password must be a bcrypt hash) or ``mode``, or a
            namespace that has handlers already (instrumented twice, or the app's own).
        ImportError: ``auth`` given but bcrypt not installed (``pip install 'siox[admin]'``).
    """
    if auth is _UNSET:
        raise TypeError("auth is required: credentials, or auth=None to disable authentication")
    return AdminUI(
        sio,
        auth=auth,
        namespace_name=namespace_name,
        mode=mode,
        read_only=read_only,
        server_id=server_id,
        store=store,
        stats_interval=stats_interval,
    )
