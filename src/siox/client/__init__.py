"""The asyncio Socket.IO client (socket.io-client 4.8 semantics) and its blocking facade.

Modules: `siox.client.client` (`Client`, the connection and reconnection), `siox.client.socket`
(`ClientSocket`, one namespace), `siox.client.connect` (`connect`), `siox.client.sync`
(`SyncClient`), `siox.client.engine` (the Engine.IO driver), `siox.client.transport` and
`siox.client.websocket` (network I/O), `siox.client.endpoint` (URL, TLS, cookies),
`siox.client.backoff` and `siox.client.listeners`.
"""

from __future__ import annotations

from .client import Client
from .connect import connect
from .socket import ClientSocket
from .sync import SyncClient, SyncSocket

__all__ = ["Client", "ClientSocket", "SyncClient", "SyncSocket", "connect"]
