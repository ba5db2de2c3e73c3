"""Event-name rules and the disconnect reasons the server reports (the reference's strings)."""

from __future__ import annotations

from ..parser.packet import RESERVED_EVENTS

__all__ = ["NOT_FALSE", "RECOVERABLE_REASONS", "check_event_name"]

#: Why a connect handler that returned False was refused (python-socketio's way to refuse).
NOT_FALSE = (
    "the connect handler returned False: siox refuses a connection when the handler raises "
    "siox.ConnectionRefused(message, data), not by its return value"
)

#: Disconnect reasons after which a session is kept for connection state recovery.
RECOVERABLE_REASONS = frozenset(
    {
        "transport error",
        "transport close",
        "forced close",
        "ping timeout",
        "server shutting down",
        "forced server close",
        "slow consumer",
    }
)


def check_event_name(event: object) -> None:
    """Refuse names that are not strings or are reserved (``connect``, ``disconnect``, ...).

    Raises:
        TypeError: not a string.
        ValueError: a reserved name.
    """
    if not isinstance(event, str):
        raise TypeError(f"event names are strings, not {type(event).__name__}")
    if event in RESERVED_EVENTS:
        raise ValueError(f"{event!r} is a reserved event name")
