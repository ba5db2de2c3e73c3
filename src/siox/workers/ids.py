"""Session ids that say which worker owns the session.

An id keeps the protocol's shape (20 URL-safe characters) and its unguessability: the first
character is the owning worker's index in the base64url alphabet, the other 19 are random
(114 bits from `secrets`). Up to 64 workers can be told apart.
"""

from __future__ import annotations

import secrets

__all__ = ["ALPHABET", "MAX_WORKERS", "owner_of", "worker_sid"]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
MAX_WORKERS = len(ALPHABET)
_INDEX = {char: index for index, char in enumerate(ALPHABET)}
_SID_LENGTH = 20


def worker_sid(index: int) -> str:
    """A new session id owned by worker ``index``."""
    return ALPHABET[index] + secrets.token_urlsafe(15)[1:]


def owner_of(sid: str) -> int | None:
    """The worker index ``sid`` names, or None when it is not a worker's session id."""
    if len(sid) != _SID_LENGTH:
        return None
    return _INDEX.get(sid[0])
