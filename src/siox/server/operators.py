"""Broadcast operators and the results of a broadcast that asks for acknowledgements.

The operators are ``to``/``in_``/``except_``/``volatile``/``compress``/``local``/``timeout``.

Each operator returns a new immutable `BroadcastOperator`; its actions hand the packet and the
targeting to the adapters of its source (one namespace, or every child of a dynamic namespace
rule), which encode it once for all recipients.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..adapters.base import AckCount, AckReply, Adapter, BroadcastOptions, FetchedSocket
from ..parser import Packet, PacketType
from .engine_api import Timers
from .events import check_event_name

__all__ = ["AckResults", "AdapterSource", "BroadcastOperator"]


class AdapterSource(Protocol):
    """Where a broadcast goes: a namespace (its adapter) or a dynamic rule (its children's)."""

    def adapters(self) -> Iterable[Adapter]:
        """The adapters to broadcast through, at the time of the call."""
        ...

    def session_timers(self) -> Timers:
        """The clock ack timeouts run on."""
        ...


def _rooms(room: str | Iterable[str]) -> frozenset[str]:
    if isinstance(room, str):
        return frozenset((room,))
    return frozenset(room)


_NO_OPTIONS = BroadcastOptions()


@dataclass(frozen=True, slots=True)
class AckResults:
    """What a broadcast with acknowledgements got back.

    Attributes:
        replies: the replies in arrival order (None / the value / a tuple, for 0 / 1 / n ack
            arguments, as a single-socket ``emit_with_ack`` returns them).
        missing: how many expected replies did not come (timed out or disconnected).
        by_socket: socket id -> reply, for sockets whose id is known.
        timed_out: ids of the sockets that did not answer in time.
    """

    replies: list[Any] = field(default_factory=list)
    missing: int = 0
    by_socket: dict[str, Any] = field(default_factory=dict)
    timed_out: frozenset[str] = frozenset()


def reply_value(args: list[Any]) -> Any:
    """An ack's arguments as a Python value: None, the one value, or a tuple."""
    if not args:
        return None
    if len(args) == 1:
        return args[0]
    return tuple(args)


@dataclass(frozen=True, slots=True)
class BroadcastOperator:
    """An immutable broadcast target; build it with ``sio.to(...)`` and friends."""

    source: AdapterSource
    options: BroadcastOptions = _NO_OPTIONS

    def to(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Also target the sockets in ``room`` (a name or several)."""
        rooms = self.options.rooms | _rooms(room)
        return replace(self, options=replace(self.options, rooms=rooms))

    in_ = to

    def except_(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Leave out the sockets in ``room``."""
        rooms = self.options.except_rooms | _rooms(room)
        return replace(self, options=replace(self.options, except_rooms=rooms))

    @property
    def volatile(self) -> BroadcastOperator:
        """Packets may be dropped for clients that are not ready to receive them."""
        return replace(self, options=replace(self.options, volatile=True))

    @property
    def local(self) -> BroadcastOperator:
        """Only this server's sockets (matters in a cluster)."""
        return replace(self, options=replace(self.options, local=True))

    def compress(self, value: bool = True) -> BroadcastOperator:
        """Whether to compress the packets (with permessage-deflate when negotiated)."""
        return replace(self, options=replace(self.options, compress=value))

    def timeout(self, seconds: float) -> BroadcastOperator:
        """How long `emit_with_ack` waits for the replies."""
        return replace(self, options=replace(self.options, timeout=seconds))

    async def emit(self, event: str, *args: Any) -> None:
        """Send ``event`` to every targeted socket."""
        check_event_name(event)
        data = [event, *args]
        for adapter in self.source.adapters():
            await adapter.broadcast(Packet(PacketType.EVENT, adapter.nsp, data), self.options)

    async def emit_with_ack(self, event: str, *args: Any) -> AckResults:
        """Send ``event`` and collect the acknowledgements; never raises on timeout.

        Without a `timeout`, it waits until every targeted socket answered or disconnected (in
        a cluster, the adapter bounds the wait by its own requests timeout). In a cluster, each
        server reports how many sockets it sent to; the results are complete once every server
        (``adapter.server_count()``) has reported and every reply has come.
        """
        check_event_name(event)
        data = [event, *args]
        adapters = tuple(self.source.adapters())
        servers = 0
        for adapter in adapters:
            servers += 1 if self.options.local else await adapter.server_count()

        async def start(on_count: AckCount, on_reply: AckReply) -> None:
            for adapter in adapters:
                packet = Packet(PacketType.EVENT, adapter.nsp, data)
                await adapter.broadcast_with_ack(packet, self.options, on_count, on_reply)

        return await self._collect(start, servers)

    async def server_side_emit_with_ack(self, event: str, *args: Any) -> AckResults:
        """Send ``event`` to the other servers of the cluster and collect one reply from each.

        The reply of a server is the return value of its ``on_server_side`` handler; a server
        that does not answer by the `timeout` (or the adapter's requests timeout) is counted in
        ``missing``. Alone, there is no other server: no reply, nothing missing.
        """
        check_event_name(event)
        data = [event, *args]
        adapters = tuple(self.source.adapters())

        async def start(on_count: AckCount, on_reply: AckReply) -> None:
            for adapter in adapters:
                await adapter.server_side_emit_with_ack(data, on_count, on_reply)

        return await self._collect(start, len(adapters))

    async def _collect(
        self, start: Callable[[AckCount, AckReply], Awaitable[None]], counts: int
    ) -> AckResults:
        """Run ``start(on_count, on_reply)`` and gather the replies.

        It waits until ``counts`` counts came and every counted reply settled, or the `timeout`.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        state = {"counts": 0, "expected": 0, "settled": 0}
        replies: list[Any] = []
        by_socket: dict[str, Any] = {}
        sent_to: set[str] = set()

        def check_done() -> None:
            complete = state["counts"] >= counts and state["expected"] <= state["settled"]
            if complete and not done.done():
                done.set_result(None)

        def on_count(count: int, sids: Iterable[str]) -> None:
            state["counts"] += 1
            state["expected"] += count
            sent_to.update(sids)
            check_done()

        def on_reply(sid: str, reply: list[Any] | None) -> None:
            if done.done():
                return
            state["settled"] += 1
            if reply is not None:
                value = reply_value(reply)
                replies.append(value)
                if sid:
                    by_socket[sid] = value
            check_done()

        await start(on_count, on_reply)
        check_done()  # no adapter at all (a dynamic rule without children)
        if self.options.timeout is None:
            await done
        else:

            def expire() -> None:
                if not done.done():
                    done.set_result(None)

            # On the server's clock (the loop's, or a test's manual clock).
            timer = self.source.session_timers().call_later(self.options.timeout, expire)
            try:
                await done
            finally:
                timer.cancel()
        missing = state["expected"] - len(replies)
        return AckResults(
            list(replies), missing, dict(by_socket), frozenset(sent_to - set(by_socket))
        )

    async def fetch_sockets(self) -> list[FetchedSocket]:
        """The targeted sockets."""
        sockets: list[FetchedSocket] = []
        for adapter in self.source.adapters():
            sockets += await adapter.fetch_sockets(self.options)
        return sockets

    async def sockets_join(self, room: str | Iterable[str]) -> None:
        """Make the targeted sockets join ``room``."""
        for adapter in self.source.adapters():
            await adapter.add_sockets(self.options, _rooms(room))

    async def sockets_leave(self, room: str | Iterable[str]) -> None:
        """Make the targeted sockets leave ``room``."""
        for adapter in self.source.adapters():
            await adapter.del_sockets(self.options, _rooms(room))

    async def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect the targeted sockets (their whole connection when ``close``)."""
        for adapter in self.source.adapters():
            await adapter.disconnect_sockets(self.options, close)
