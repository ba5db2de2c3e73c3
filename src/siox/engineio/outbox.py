"""The bounded queue of packets a session has accepted but not yet put on the wire.

Both session roles keep their outgoing packets here until the transport can take them (a
polling GET is pending, a POST may be sent, the WebSocket is not paused). The queue counts the
bytes of what it holds so that a peer that stops reading cannot make it grow without bound
(hostile-inputs R05); the session applies the overflow policy.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from .packet import EnginePacket
from .payload import encode_payload

__all__ = ["Outbox", "packet_size"]


def packet_size(packet: EnginePacket) -> int:
    """Bytes ``packet`` occupies: its data (UTF-8 for text) plus one for the type.

    Raises:
        ValueError: the text holds a lone surrogate (it cannot be sent as UTF-8).
    """
    data = packet.data
    if isinstance(data, str) and not data.isascii():
        try:
            return 1 + len(data.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise ValueError(f"text holds a lone surrogate at index {exc.start}") from None
    return 1 + len(data)


class Outbox:
    """FIFO of packets with a running byte count.

    Args:
        limit: the byte count above which `overflowing` is true.
    """

    __slots__ = ("_base", "_keys", "_packets", "_sizes", "limit", "size")

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"the outgoing buffer limit must be >= 0, not {limit!r}")
        # Lists, not deques: an idle session's empty deque costs ~700 bytes, a list ~56, and
        # packets leave in bulk (take_all swaps the list; take_batch deletes one prefix). While
        # nothing was queued since the last take_all, both are the empty tuple: an idle session
        # keeps no list (nor anything for the garbage collector to walk); push creates them.
        self._packets: list[EnginePacket] | tuple[()] = ()
        self._sizes: list[int] | tuple[()] = ()
        self.limit = limit
        self.size = 0
        # Conflation (created on first use): key -> absolute index of its queued packet;
        # ``_base`` is the absolute index of ``_packets[0]``.
        self._keys: dict[Hashable, int] | None = None
        self._base = 0

    def __len__(self) -> int:
        return len(self._packets)

    @property
    def overflowing(self) -> bool:
        """Whether more than ``limit`` bytes are waiting."""
        return self.size > self.limit

    def push(
        self, packet: EnginePacket, size: int | None = None, key: Hashable | None = None
    ) -> None:
        """Queue ``packet`` (``size`` as `packet_size` gives it, computed when None).

        ``key`` (not None) lets a later packet with the same key `replace` this one while it
        waits.
        """
        if size is None:
            size = packet_size(packet)
        if key is not None:
            if self._keys is None:
                self._keys = {}
            self._keys[key] = self._base + len(self._packets)
        packets = self._packets
        sizes = self._sizes
        if packets and sizes:  # lists (the empty tuple is false)
            packets.append(packet)
            sizes.append(size)
        else:
            self._packets = [packet]
            self._sizes = [size]
        self.size += size

    def replace(self, key: Hashable, packet: EnginePacket, size: int) -> bool:
        """Put ``packet`` in the place of the waiting packet pushed with ``key`` (latest wins).

        Returns False (nothing changed) when no packet with that key is waiting.
        """
        keys = self._keys
        if keys is None:
            return False
        where = keys.get(key)
        if where is None:
            return False
        index = where - self._base
        packets = self._packets
        sizes = self._sizes
        if not (packets and sizes and 0 <= index < len(packets)):
            del keys[key]  # already sent
            return False
        self.size += size - sizes[index]
        packets[index] = packet
        sizes[index] = size
        return True

    def _taken(self, count: int) -> None:
        self._base += count
        if self._keys is not None and not self._packets:
            self._keys = None

    def take_all(self) -> list[EnginePacket]:
        """Remove and return every queued packet, oldest first."""
        packets = self._packets
        if not packets:
            return []
        self._packets = self._sizes = ()
        self.size = 0
        self._taken(len(packets))
        return packets

    def take_batch(self, max_bytes: int | None, *, eio: int, b64: bool) -> list[EnginePacket]:
        """Remove and return the oldest packets whose polling payload fits ``max_bytes``.

        At least one packet is returned when any is queued, even one larger than the limit (as
        engine.io-client does: the server then refuses it with a 413).

        Args:
            max_bytes: the server's ``maxPayload``; None takes everything.
            eio: the Engine.IO revision of the payload.
            b64: whether binary travels as base64 (v3).
        """
        if max_bytes is None:
            return self.take_all()
        total = 0
        taken = 0
        for packet in self._packets:
            body = encode_payload([packet], eio=eio, b64=b64)
            cost = len(body.encode("utf-8")) if isinstance(body, str) else len(body)
            if taken and eio == 4:
                cost += 1  # the record separator
            if taken and total + cost > max_bytes:
                break
            total += cost
            taken += 1
        packets = self._packets
        sizes = self._sizes
        if not (packets and sizes):
            return []
        batch = packets[:taken]
        self.size -= sum(sizes[:taken])
        del packets[:taken]
        del sizes[:taken]
        self._taken(taken)
        return batch

    def clear(self) -> None:
        """Drop everything."""
        self.take_all()

    def peek(self) -> Sequence[EnginePacket]:
        """The queued packets, oldest first (a read-only view for tests and introspection)."""
        return tuple(self._packets)
