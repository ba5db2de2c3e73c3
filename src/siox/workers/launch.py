"""``siox.run``: one embedded server, or ``workers`` processes behind one port."""

from __future__ import annotations

import ssl as ssl_module
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..options import DEFAULT_SERVE_OPTIONS
from ..server import serve as serve_module
from ..server.server import Server
from .ids import MAX_WORKERS, new_node

__all__ = ["run"]


def run(
    app: Any,
    *,
    host: str = DEFAULT_SERVE_OPTIONS.host,
    port: int = DEFAULT_SERVE_OPTIONS.port,
    ssl: ssl_module.SSLContext | None = None,
    static_files: Mapping[str, str | Path] | None = None,
    use_uvloop: bool = True,
    workers: int = 1,
    shutdown_timeout: float = DEFAULT_SERVE_OPTIONS.shutdown_timeout,
) -> None:
    """Serve ``app`` until SIGINT/SIGTERM, then shut down gracefully (blocking).

    Args:
        app: a `siox.Server` or a `siox.EngineServer`.
        host: the address to listen on.
        port: the port to listen on.
        ssl: a TLS context (one process only: see below).
        static_files: URL paths mapped to files served next to the endpoint.
        use_uvloop: run on uvloop when it is installed.
        workers: how many processes serve the port (1: this process, no other). With more,
            the workers share the port and need no sticky sessions: a request for a session
            of another worker is handed to it, and without a configured adapter the workers
            form a cluster of their own (see docs/workers.md). SIGHUP replaces them one at a
            time; a worker that dies is replaced.
        shutdown_timeout: seconds a graceful shutdown waits for sessions to close.

    Raises:
        ValueError: ``workers`` out of range, or combined with ``ssl`` or a ``generate_id``
            (session ids name their worker; connections are handed over below TLS).
    """
    if workers == 1:
        serve_module.run(app, host=host, port=port, ssl=ssl, static_files=static_files,
                         use_uvloop=use_uvloop)  # fmt: skip
        return
    # Imported here: fork and descriptor passing exist on POSIX only, workers=1 runs anywhere.
    from .supervisor import Supervisor, bind, make_rundir, remove_rundir
    from .worker import WorkerConfig, engine_of

    if not 1 <= workers <= MAX_WORKERS // 2:  # two banks of session-id indexes (SIGHUP)
        raise ValueError(f"workers must be between 1 and {MAX_WORKERS // 2}, not {workers!r}")
    if ssl is not None:
        raise ValueError("workers > 1 cannot hand TLS connections over: terminate TLS in front")
    if engine_of(app).generate_id is not None:
        raise ValueError("workers > 1 choose the session ids (they name their worker)")
    sock = bind(host, port)
    rundir = make_rundir()
    try:
        # With a cluster adapter (Redis), other machines may hold sessions: ids name the node.
        node = new_node() if isinstance(app, Server) and app.adapter_factory else ""
        config = WorkerConfig(app, workers, rundir, sock, static_files, shutdown_timeout,
                              use_uvloop, node)  # fmt: skip
        Supervisor(config, kill_timeout=shutdown_timeout + 5.0).run()
    finally:
        sock.close()
        remove_rundir(rundir)
