"""Which Socket.IO event a queued message carries, for conflation ("latest wins").

A slow client's backlog of state-like events (a position, a score) is worth only its last
entry. `EventConflation` is the key function an Engine.IO session uses to let a new message
replace a queued one (`siox.engineio.outbox.Outbox.replace`): it names ``(namespace, event)``
for a text EVENT packet of one of the chosen events, sent without an ack id, and None for
everything else (acks, binary events, other events, the msgpack parser's binary packets), which
keep their place in the queue.
"""

from __future__ import annotations

__all__ = ["EventConflation"]


class EventConflation:
    """``key(message) -> (namespace, event) | None`` over a set of conflated events."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: set[tuple[str, str]] = set()

    def add(self, namespace: str, *events: str) -> None:
        """Conflate ``events`` of ``namespace``."""
        self.events.update((namespace, event) for event in events)

    def __call__(self, message: str | bytes) -> tuple[str, str] | None:
        """The conflation key of an encoded Socket.IO packet, or None."""
        if type(message) is not str or not message.startswith("2"):
            return None  # not a text EVENT packet
        start = 1
        namespace = "/"
        if message.startswith("/", 1):
            comma = message.find(",", 1)
            if comma < 0:
                return None
            namespace = message[1:comma]
            start = comma + 1
        if not message.startswith('["', start):
            return None  # an ack id comes first: each one is awaited, never conflated
        end = message.find('"', start + 2)
        if end < 0:
            return None
        event = message[start + 2 : end]
        if "\\" in event:
            return None
        key = (namespace, event)
        return key if key in self.events else None
