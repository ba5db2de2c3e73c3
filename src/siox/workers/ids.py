"""Session ids that say which worker owns the session.

An id keeps the protocol's shape (20 URL-safe characters) and its unguessability: the first
character is the owning worker's index in the base64url alphabet, the other 19 are random
(114 bits from `secrets`). Up to 64 workers can be told apart. With forwarding across machines
(`siox.workers.forward`), the next 4 characters are the node's id and 15 stay random (90 bits).
"""

from __future__ import annotations

import secrets

__all__ = [
    "ALPHABET",
    "MAX_WORKERS",
    "NODE_LENGTH",
    "new_node",
    "node_of",
    "owner_of",
    "worker_sid",
]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
MAX_WORKERS = len(ALPHABET)
_INDEX = {char: index for index, char in enumerate(ALPHABET)}
_SID_LENGTH = 20
NODE_LENGTH = 4


def new_node() -> str:
    """A random node id (4 URL-safe characters)."""
    return secrets.token_urlsafe(3)


def worker_sid(index: int, node: str = "") -> str:
    """A new session id owned by worker ``index`` of node ``node`` ("": this machine only)."""
    return ALPHABET[index] + node + secrets.token_urlsafe(15)[1 + len(node) :]


def node_of(sid: str) -> str:
    """The node id a session id carries (when nodes are in use)."""
    return sid[1 : 1 + NODE_LENGTH]


def owner_of(sid: str) -> int | None:
    """The worker index ``sid`` names, or None when it is not a worker's session id."""
    if len(sid) != _SID_LENGTH:
        return None
    return _INDEX.get(sid[0])
