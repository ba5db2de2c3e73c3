"""The Admin UI's login: basic credentials checked against a bcrypt hash, or none at all.

The username is compared in constant time (`hmac.compare_digest`), and the password is always
checked, even for a wrong username, so that the answer's timing says nothing about which of the
two was wrong. bcrypt runs in a worker thread: a check takes tens of milliseconds by design and
must not stall the event loop. bcrypt itself comes with the ``siox[admin]`` extra.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BasicAuth", "parse_auth"]

#: A bcrypt hash: ``$2a$``/``$2b$``/``$2x$``/``$2y$``, the cost, then 53 characters.
_BCRYPT = re.compile(r"\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}")


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """A username and the bcrypt hash of the password."""

    username: str
    password_hash: str

    async def check(self, username: Any, password: Any) -> bool:
        """Whether ``username`` and ``password`` (as the client sent them) are right."""
        if not isinstance(username, str) or not isinstance(password, str):
            return False
        user_ok = hmac.compare_digest(username.encode(), self.username.encode())
        password_ok = await asyncio.to_thread(_checkpw, password, self.password_hash)
        return user_ok and password_ok


def _checkpw(password: str, password_hash: str) -> bool:
    import bcrypt

    try:
        return bool(bcrypt.checkpw(password.encode(), password_hash.encode()))
    except ValueError:  # bcrypt 5 refuses passwords over 72 bytes
        return False


def parse_auth(auth: Any) -> BasicAuth | None:
    """The checked ``auth`` option of `siox.admin.instrument`.

    Raises:
        TypeError: ``auth`` is neither None nor a mapping.
        ValueError: not ``{"type": "basic", "username": str, "password": <bcrypt hash>}``.
        ImportError: bcrypt is not installed (``pip install siox[admin]``).
    """
    if auth is None:
        return None
    if not isinstance(auth, Mapping):
        raise TypeError(
            "auth is {'type': 'basic', 'username': ..., 'password': <bcrypt hash>}, "
            "or None to disable authentication"
        )
    if auth.get("type") != "basic":
        raise ValueError("the only auth type is 'basic'")
    username, password = auth.get("username"), auth.get("password")
    if not isinstance(username, str) or not username:
        raise ValueError("auth needs a 'username' (a non-empty str)")
    if not isinstance(password, str) or _BCRYPT.fullmatch(password) is None:
        raise ValueError("auth's 'password' must be a bcrypt hash, not the password itself")
    try:
        import bcrypt  # noqa: F401
    except ImportError as exc:
        raise ImportError("password checks need bcrypt: pip install 'siox[admin]'") from exc
    return BasicAuth(username, password)
