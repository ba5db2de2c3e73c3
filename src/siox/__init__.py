"""siox: Socket.IO for Python — a strict sans-I/O protocol core, asyncio server and client."""

from __future__ import annotations

from ._version import __version__
from .asgi import ASGIApp
from .client import Client, ClientSocket, SyncClient, SyncSocket, connect
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
from .server.adapter import Adapter, BroadcastOptions, InMemoryAdapter
from .server.engine_server import EngineServer
from .server.namespace import Namespace
from .server.operators import AckResults, BroadcastOperator
from .server.serve import Serving, run, serve
from .server.server import Recovery, Server
from .server.socket import Handshake, Socket

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
