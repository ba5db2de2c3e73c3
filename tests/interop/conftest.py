"""Fixtures of the interop scenarios: server processes under test, shared per session.

Every scenario runs against the siox app (tests/interop/siox_app.py), skipped while siox has no
Server; with ``SIOX_INTEROP_REFERENCE=1`` it also runs against the Node reference server
(tests/node/reference_server.js), which is how the scenarios themselves are validated. Servers
are started on first use, one per configuration, and stopped by PID at the end of the session;
the restart scenario gets a server of its own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from interop.server_process import ServerConfig, ServerKind, ServerProcess, siox_missing_names

pytest.register_assert_rewrite("interop.expectations")  # before any test module imports it

REFERENCE_ENV = "SIOX_INTEROP_REFERENCE"


class ServerPool:
    """Server processes started on first use and kept for the session."""

    def __init__(self) -> None:
        self._servers: dict[ServerConfig, ServerProcess] = {}

    def get(self, config: ServerConfig) -> ServerProcess:
        """The running server for ``config`` (started now if it is the first use)."""
        server = self._servers.get(config)
        if server is None:
            server = ServerProcess(config)
            server.start()
            self._servers[config] = server
        server.ensure_running()
        return server

    def close(self) -> None:
        """Stop every server (by PID)."""
        for server in self._servers.values():
            server.close()
        self._servers.clear()


@pytest.fixture(scope="session")
def server_pool() -> Iterator[ServerPool]:
    """All servers the session started."""
    pool = ServerPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session", params=["siox", "reference"])
def server_kind(request: pytest.FixtureRequest) -> ServerKind:
    """Which implementation serves the scenarios (the reference only on request)."""
    if shutil.which("node") is None:
        pytest.skip("needs Node.js (the scenarios run socket.io-client)")
    kind: ServerKind = request.param
    if kind == "reference" and os.environ.get(REFERENCE_ENV) != "1":
        pytest.skip(f"the Node reference server runs only with {REFERENCE_ENV}=1")
    if kind == "siox":
        missing = siox_missing_names("socketio")
        if missing:
            pytest.skip(f"siox has no {', '.join(missing)} yet (the server is being built)")
    return kind


@pytest.fixture
def interop_server(server_kind: ServerKind, server_pool: ServerPool) -> ServerProcess:
    """The app with the default parser and no state recovery."""
    return server_pool.get(ServerConfig(server_kind, profile="interop"))


@pytest.fixture
def msgpack_server(server_kind: ServerKind, server_pool: ServerPool) -> ServerProcess:
    """The app with the msgpack parser."""
    return server_pool.get(ServerConfig(server_kind, profile="interop", parser="msgpack"))


@pytest.fixture
def msgpack_module_server(server_kind: ServerKind, server_pool: ServerPool) -> ServerProcess:
    """The siox app given ``parser=siox.parser.msgpack`` (the module object itself)."""
    if server_kind == "reference":
        pytest.skip("a parser given as a module object is a siox configuration")
    return server_pool.get(ServerConfig(server_kind, profile="interop", parser="msgpack-module"))


@pytest.fixture
def recovery_server(server_kind: ServerKind, server_pool: ServerPool) -> ServerProcess:
    """The app with connection state recovery on."""
    return server_pool.get(ServerConfig(server_kind, profile="recovery"))


@pytest.fixture
def restartable_server(server_kind: ServerKind) -> Iterator[ServerProcess]:
    """A server of the test's own, free to be restarted."""
    with ServerProcess(ServerConfig(server_kind, profile="interop")) as server:
        yield server
