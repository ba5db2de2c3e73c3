"""Heartbeat deadlines of one Engine.IO session, for both roles and both revisions, as data.

Who pings whom, and when the peer counts as dead (protocol.md 3.4 and 4)::

    role    rev  we send PING           the peer is dead when                 on a PING / PONG
    server  4    every ping_interval,   no PONG within ping_timeout of our    PING: violation
                 re-armed by the PONG   PING (extended once by the first      PONG: re-arm
                                        other packet, as engine.io 6.6)
    server  3    never                  no PING for interval + timeout        PING: answer PONG
                                                                              PONG: violation
    client  4    never                  no PING for interval + timeout        PING: answer PONG
    client  3    ping_interval after    no packet for interval + timeout;     PONG: re-arm
                 open and after PONG    no packet within timeout of our PING

A polling client that stops polling never sees the server's PING, so the same deadline expires
the session after ping_interval + ping_timeout: one timer per session, no sweep.
"""

from __future__ import annotations

from enum import Enum

from .packet import EnginePacketType

__all__ = ["Heartbeat", "HeartbeatAction", "HeartbeatRole"]

_PING = EnginePacketType.PING
_PONG = EnginePacketType.PONG


class HeartbeatRole(Enum):
    """Which end of the connection a session is."""

    SERVER = "server"
    CLIENT = "client"


_SERVER = HeartbeatRole.SERVER
_CLIENT = HeartbeatRole.CLIENT


class HeartbeatAction(Enum):
    """What a session must do after the heartbeat saw a packet or a deadline."""

    NONE = "none"
    SEND_PONG = "send pong"  # answer the peer's PING
    SEND_PING = "send ping"  # our PING is due (already re-armed: send it now)
    VIOLATION = "violation"  # the peer pinged in the wrong direction
    TIMEOUT = "timeout"  # the peer is dead


class Heartbeat:
    """The two deadlines of a heartbeat: our next PING and the peer's death.

    Args:
        role: which end this session is.
        eio: the Engine.IO revision (4 or 3).
        interval: ping interval, seconds.
        timeout: ping timeout, seconds.
    """

    __slots__ = (
        "_active",
        "_refreshed",
        "deadline",
        "eio",
        "interval",
        "ping_at",
        "role",
        "timeout",
    )

    def __init__(self, role: HeartbeatRole, eio: int, interval: float, timeout: float) -> None:
        if not interval > 0 or not timeout >= 0:
            raise ValueError("the ping interval must be > 0 and the ping timeout >= 0")
        self.role = role
        self.eio = eio
        self.interval = interval
        self.timeout = timeout
        #: When we send our next PING (None: not scheduled).
        self.ping_at: float | None = None
        #: When the peer counts as dead (None: not armed).
        self.deadline: float | None = None
        self._refreshed = False
        self._active = False

    @property
    def _we_ping(self) -> bool:
        return (self.role is _SERVER) == (self.eio == 4)

    def start(self, now: float) -> None:
        """Arm the deadlines at the end of the handshake."""
        self._active = True
        if self._we_ping:
            self.ping_at = now + self.interval
        if self.role is _CLIENT or self.eio == 3:
            self.deadline = now + self.interval + self.timeout

    def stop(self) -> None:
        """Disarm everything for good (the session is closing or closed)."""
        self._active = False
        self.ping_at = None
        self.deadline = None

    def next_deadline(self) -> float | None:
        """The earliest armed deadline, or None."""
        if self.ping_at is None:
            return self.deadline
        if self.deadline is None:
            return self.ping_at
        return min(self.ping_at, self.deadline)

    def on_packet(self, packet_type: EnginePacketType, now: float) -> HeartbeatAction:
        """Account for one packet received on the session's transport."""
        if not self._active:
            return HeartbeatAction.NONE
        if self.role is HeartbeatRole.SERVER:
            if self.eio == 4:
                return self._server_v4(packet_type, now)
            if packet_type is _PING:
                self.deadline = now + self.interval + self.timeout
                return HeartbeatAction.SEND_PONG
            return HeartbeatAction.VIOLATION if packet_type is _PONG else HeartbeatAction.NONE
        if self.eio == 4:
            if packet_type is _PING:
                self.deadline = now + self.interval + self.timeout
                return HeartbeatAction.SEND_PONG
            return HeartbeatAction.NONE
        # engine.io-client 3.x: any packet proves the server alive; a PONG re-arms our PING.
        self.deadline = now + self.interval + self.timeout
        if packet_type is _PONG:
            self.ping_at = now + self.interval
        return HeartbeatAction.NONE

    def _server_v4(self, packet_type: EnginePacketType, now: float) -> HeartbeatAction:
        if packet_type is _PING:
            return HeartbeatAction.VIOLATION
        if packet_type is _PONG:
            self.deadline = None
            self.ping_at = now + self.interval
            return HeartbeatAction.NONE
        if self.deadline is not None and not self._refreshed:
            # engine.io 6.6: the first other packet while a PONG is awaited extends the wait once.
            self.deadline = now + self.timeout
            self._refreshed = True
        return HeartbeatAction.NONE

    def on_timer(self, now: float) -> HeartbeatAction:
        """Check the deadlines at ``now``: TIMEOUT, SEND_PING (re-armed) or NONE."""
        if self.deadline is not None and self.deadline <= now:
            self.stop()
            return HeartbeatAction.TIMEOUT
        if self.ping_at is not None and self.ping_at <= now:
            self.ping_at = None
            self.deadline = now + self.timeout
            self._refreshed = False
            return HeartbeatAction.SEND_PING
        return HeartbeatAction.NONE
