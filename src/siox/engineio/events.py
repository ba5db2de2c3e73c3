"""The events an Engine.IO session reports to its driver (what happened on the connection).

A session (`siox.engineio.session.EngineSession` for the server role,
`siox.engineio.client_session.ClientEngineSession` for the client role) queues these as it
processes input; the driver collects them with ``events_received()`` after every call. Every
event is a frozen, slotted dataclass. `Closed` is always the last event of a session and comes
exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .handshake import Transport

__all__ = [
    "CloseReason",
    "Closed",
    "Event",
    "MessageReceived",
    "Opened",
    "Upgraded",
]


class CloseReason(StrEnum):
    """Why a session ended: the reason strings of the JS reference (engine.io 6.6).

    The values are what the reference passes to its ``close`` listeners, so the Socket.IO layer
    can hand them to applications unchanged.
    """

    #: The peer closed the connection or sent a close packet.
    TRANSPORT_CLOSE = "transport close"
    #: The peer missed a heartbeat deadline.
    PING_TIMEOUT = "ping timeout"
    #: The peer sent something that is not a valid Engine.IO packet or payload.
    PARSE_ERROR = "parse error"
    #: The peer broke the protocol (overlapping requests, wrong heartbeat direction, a request
    #: aborted mid-way, a limit crossed...). `Closed.description` says which.
    TRANSPORT_ERROR = "transport error"
    #: The local side closed the session (``close()``).
    FORCED_CLOSE = "forced close"
    #: The local server is shutting down (``close(CloseReason.SERVER_SHUTTING_DOWN)``).
    SERVER_SHUTTING_DOWN = "server shutting down"
    #: siox only (the reference buffers without a bound): the peer read so much slower than
    #: it was written to that more than ``max_buffer_size`` bytes waited for it.
    SLOW_CONSUMER = "slow consumer"


@dataclass(frozen=True, slots=True)
class Opened:
    """The handshake is done (server: the OPEN packet is queued; client: it was received).

    Attributes:
        sid: the Engine.IO session id.
        transport: the transport the session started on.
        upgrades: transports the client may upgrade to (``("websocket",)`` or ``()``).
        ping_interval: heartbeat period, seconds.
        ping_timeout: how long a heartbeat answer may take, seconds.
        max_payload: the largest polling payload the server accepts, bytes (None when a client
            talked to a server that did not say).
    """

    sid: str
    transport: Transport
    upgrades: tuple[str, ...]
    ping_interval: float
    ping_timeout: float
    max_payload: int | None


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """The peer sent an Engine.IO MESSAGE.

    Attributes:
        data: ``str`` for a text message, ``bytes`` for a binary one.
    """

    data: str | bytes


@dataclass(frozen=True, slots=True)
class Upgraded:
    """The session switched from long-polling to another transport (always WebSocket).

    Attributes:
        transport: the new transport.
    """

    transport: Transport


@dataclass(frozen=True, slots=True)
class Closed:
    """The session is over; nothing more will be sent or received.

    Attributes:
        reason: why, as the reference names it.
        description: a human-readable detail (which limit, which rule), or None.
    """

    reason: CloseReason
    description: str | None = None


#: Anything ``events_received()`` returns.
Event = Opened | MessageReceived | Upgraded | Closed
