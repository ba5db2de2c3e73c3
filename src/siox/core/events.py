"""What a core connection reports besides the Engine.IO and Socket.IO events it passes up."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ProtocolError

__all__ = ["ProtocolViolation"]


@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """The peer broke the Socket.IO protocol; the connection must end with ``reason``.

    ``invalid_state`` tells a well-formed packet the connection's state does not allow (its
    sockets are closed at once, without DISCONNECT packets: "forced server close") from a
    malformed one (the Engine.IO session closes: "parse error"). ``cause`` is the error that
    says what was wrong.
    """

    reason: str
    cause: ProtocolError
    invalid_state: bool
