"""siox: Socket.IO for Python — a strict sans-I/O protocol core, asyncio server and client.

The server, client and front ends are imported on first use, so ``import siox.parser`` (the
sans-I/O core) loads only the standard library (and orjson/msgpack when used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    AckTimeout,
    ConnectionRefused,
    HandshakeError,
    InvalidPacket,
    NotConnected,
    PayloadTooLarge,
    ProtocolError,
    SioxError,
)

if TYPE_CHECKING:
    from .adapters import Adapter, BroadcastOptions, InMemoryAdapter
    from .asgi import ASGIApp
    from .client import Client, ClientSocket, SyncClient, SyncSocket
    from .client.connect import connect
    from .options import Recovery
    from .server.engine_server import EngineServer
    from .server.namespace import Namespace
    from .server.operators import AckResults, BroadcastOperator
    from .server.runner import ErrorContext
    from .server.serve import Serving, serve
    from .server.server import Server
    from .server.socket import Handshake, Socket
    from .workers.launch import run

_LAZY = {
    "ASGIApp": ".asgi",
    "Client": ".client",
    "ClientSocket": ".client",
    "SyncClient": ".client",
    "SyncSocket": ".client",
    "connect": ".client",
    "Adapter": ".adapters",
    "BroadcastOptions": ".adapters",
    "InMemoryAdapter": ".adapters",
    "ErrorContext": ".server.runner",
    "EngineServer": ".server.engine_server",
    "Namespace": ".server.namespace",
    "AckResults": ".server.operators",
    "BroadcastOperator": ".server.operators",
    "Serving": ".server.serve",
    "run": ".workers.launch",
    "serve": ".server.serve",
    "Recovery": ".options",
    "Server": ".server.server",
    "Handshake": ".server.socket",
    "Socket": ".server.socket",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'siox' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ASGIApp",
    "AckResults",
    "AckTimeout",
    "Adapter",
    "BroadcastOperator",
    "BroadcastOptions",
    "Client",
    "ClientSocket",
    "ConnectionRefused",
    "EngineServer",
    "ErrorContext",
    "Handshake",
    "HandshakeError",
    "InMemoryAdapter",
    "InvalidPacket",
    "Namespace",
    "NotConnected",
    "PayloadTooLarge",
    "ProtocolError",
    "Recovery",
    "Server",
    "Serving",
    "SioxError",
    "Socket",
    "SyncClient",
    "SyncSocket",
    "__version__",
    "connect",
    "run",
    "serve",
]
