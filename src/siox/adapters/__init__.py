"""Adapters: the one contract through which the server reaches sockets in bulk.

`Adapter` is the abstract contract (async methods only); `InMemoryAdapter` is the embedded
default for one process. An adapter is built per namespace by ``Server(adapter=factory)``,
where ``factory(local)`` gets the namespace's `LocalSockets`: the narrow interface the server
gives every adapter to reach the sockets this process holds.
"""

from __future__ import annotations

from .base import (
    AckCount,
    AckReply,
    Adapter,
    BroadcastOptions,
    FetchedSocket,
    LocalSockets,
    SessionState,
)
from .memory import InMemoryAdapter

__all__ = [
    "AckCount",
    "AckReply",
    "Adapter",
    "BroadcastOptions",
    "FetchedSocket",
    "InMemoryAdapter",
    "LocalSockets",
    "SessionState",
]
