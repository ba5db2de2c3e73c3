"""What runs in one worker process: the app on the shared socket, handoffs, the local cluster."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..adapters.base import LocalSockets
from ..adapters.cluster import ClusterAdapter
from ..server.engine_server import EngineServer
from ..server.http_types import HttpRequest
from ..server.serve import Serving, freeze_startup_objects
from ..server.server import Server
from .forward import EngineBridge, channel_of
from .handoff import HandoffInbox, HandoffRouter, link_path
from .ids import worker_sid
from .pubsub import HubPubSub
from .stats import WorkerStats, install

__all__ = ["WorkerConfig", "engine_of", "worker_main"]

logger = logging.getLogger("siox.workers")


class WorkerConfig:
    """What every worker is told by the supervisor (inherited through ``fork``)."""

    def __init__(
        self,
        app: Any,
        count: int,
        rundir: str,
        sock: socket.socket,
        static_files: Mapping[str, str | Path] | None,
        shutdown_timeout: float,
        use_uvloop: bool,
        node: str = "",
    ) -> None:
        self.app = app
        self.count = count
        self.rundir = rundir
        self.sock = sock
        self.static_files = static_files
        self.shutdown_timeout = shutdown_timeout
        self.use_uvloop = use_uvloop
        #: this machine's node id when requests are forwarded between machines ("": none)
        self.node = node

    @property
    def hub_path(self) -> str:
        """The hub's Unix socket."""
        return str(Path(self.rundir) / "hub.sock")


def engine_of(app: Any) -> EngineServer:
    """The `EngineServer` of a `siox.Server` or of a bare engine."""
    engine = getattr(app, "engine", app)
    if not isinstance(engine, EngineServer):
        raise TypeError("workers serve a siox.Server or a siox.EngineServer")
    return engine


def _own_adapters(server: Server, hub_path: str) -> HubPubSub | None:
    """Give the namespaces adapters of this process; the hub's when none is configured.

    Adapters made before the fork are made again: a cluster adapter's id must differ between
    workers (each ignores messages carrying its own).
    """
    pubsub = None
    factory = server.adapter_factory
    if factory is None:
        window = server.recovery.max_disconnection_duration if server.recovery else None
        hub = pubsub = HubPubSub(hub_path)

        def factory(local: LocalSockets) -> ClusterAdapter:
            return ClusterAdapter(local, hub, key="siox", max_disconnection_duration=window)

    # Namespaces made from now on, and those the app made before the fork.
    server.use_adapter(factory)
    return pubsub


async def _bridge(
    app: Any, engine: EngineServer, stats: WorkerStats, node: str, index: int
) -> EngineBridge | None:
    """The forwarding bridge over the configured cluster adapter's bus (None: no such bus)."""
    adapter = getattr(app, "namespaces", {}).get("/")
    adapter = getattr(adapter, "adapter", None)
    if not isinstance(adapter, ClusterAdapter):
        return None
    key = adapter.request_channel.rsplit("-request#", 1)[0]
    timeout = engine.ping_interval + engine.ping_timeout + 5.0
    bridge = EngineBridge(engine, adapter.pubsub, channel_of(key, node, index), stats, timeout)
    bridge.key = key
    await bridge.start()
    return bridge


def worker_main(config: WorkerConfig, index: int, slot: int, ready_fd: int) -> None:
    """Serve as worker ``index`` until SIGTERM/SIGINT, then drain (blocking; in the child).

    SIGUSR1 makes it stop accepting connections (it is about to be replaced) while it goes on
    serving its sessions, reached through handoffs.
    """
    stats = WorkerStats(index=index, slot=slot, count=config.count, node=config.node)
    install(stats)
    engine = engine_of(config.app)

    def generate_id(request: HttpRequest) -> str:
        sid = worker_sid(index, config.node)
        while sid in engine.sessions:
            sid = worker_sid(index, config.node)
        return sid

    engine.generate_id = generate_id
    if config.use_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

    async def main() -> None:
        app = config.app
        pubsub = _own_adapters(app, config.hub_path) if isinstance(app, Server) else None
        for namespace in list(getattr(app, "namespaces", {}).values()):
            ready = getattr(namespace.adapter, "ready", None)
            if ready is not None:  # a cluster adapter: subscribed before the worker serves
                await ready()
        serving = Serving(app, "", 0, None, config.static_files, config.shutdown_timeout)
        serving.sock = config.sock
        router = serving.router = HandoffRouter(engine, stats, config.rundir)
        bridge = await _bridge(app, engine, stats, config.node, index) if config.node else None
        if bridge is not None:
            router.node, router.bridge, router.key = config.node, bridge, bridge.key
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        serving = await serving.start()
        freeze_startup_objects()

        def retire() -> None:
            if serving.server is not None:
                serving.server.close()  # no new connections; those it holds go on

        loop.add_signal_handler(signal.SIGUSR1, retire)
        supervisor = os.getppid()

        def watch_supervisor() -> None:  # a worker does not outlive its supervisor
            if os.getppid() != supervisor:
                logger.error("siox workers: the supervisor is gone; worker %d stops", index)
                stop.set()
            else:
                loop.call_later(1.0, watch_supervisor)

        loop.call_later(1.0, watch_supervisor)
        inbox = HandoffInbox(link_path(config.rundir, index), serving.adopt, stats)
        os.write(ready_fd, b"r")
        os.close(ready_fd)
        try:
            await stop.wait()
        finally:
            await serving.close()  # stops accepting, then drains (handoffs still arrive)
            inbox.close()
            router.close()
            if bridge is not None:
                await bridge.close()
            if pubsub is not None:
                await pubsub.close()

    asyncio.run(main())
