"""`RequestingAdapter`: what both cluster protocols share when a node asks the other servers.

The classic protocol (`siox.adapters.cluster`) and socket.io-adapter's cluster messages
(`siox.adapters.message_cluster`) differ in their wire formats, not in how a request is made:
it gets an id, its responses are handed to the handler registered under that id, and the
requester waits until as many servers as it expects answered or its timeout passed (then it
gives what arrived: partial results, never an exception). Fetching sockets is the same on both:
the local sockets plus a `RemoteSocket` per socket another server described.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ..parser import Packet
from .base import AckCount, AckReply, BroadcastOptions, FetchedSocket, LocalSockets
from .memory import InMemoryAdapter
from .remote import RemoteSocket
from .wire import WireError, check_data

__all__ = ["AckTally", "RequestingAdapter", "ResponseHandler"]

logger = logging.getLogger("siox.cluster")

#: ``handler(response)``: one response (a decoded map) to one of this node's requests.
ResponseHandler = Callable[[dict[str, Any]], None]


class AckTally:
    """The other servers' side of one broadcast with acks: their counts and their clients' replies.

    Each protocol reads its responses its own way and reports them here; at the timeout `expire`
    stands in for the servers and replies that did not come (a count of 0, an empty reply), so
    the caller's tally always completes.
    """

    __slots__ = ("expected", "on_count", "on_reply", "others", "replies", "servers")

    def __init__(self, others: int, on_count: AckCount, on_reply: AckReply) -> None:
        self.others = others
        self.on_count = on_count
        self.on_reply = on_reply
        self.servers = self.expected = self.replies = 0

    def count(self, count: Any, sids: Any) -> None:
        """A server's number of clients the packet went to, and their ids.

        Raises:
            WireError: ``count`` is not a count.
        """
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise WireError("clientCount is not a count")
        self.servers += 1
        self.expected += count
        known = [s for s in sids if isinstance(s, str)] if isinstance(sids, list) else []
        self.on_count(count, known)

    def reply(self, sid: Any, args: list[Any]) -> None:
        """One client's reply (``sid`` may be missing: older peers do not send it).

        Raises:
            WireError: ``args`` holds values that are not data.
        """
        check_data(args)
        self.replies += 1
        self.on_reply(sid if isinstance(sid, str) else "", args)

    def expire(self) -> None:
        """The timeout: a count of 0 per silent server, an empty reply per missing one."""
        for _ in range(max(0, self.others - self.servers)):
            self.on_count(0, ())
        for _ in range(max(0, self.expected - self.replies)):
            self.on_reply("", None)


class RequestingAdapter(InMemoryAdapter):
    """The in-memory adapter plus the requesting half of a cluster adapter.

    Subclasses give the wire: `server_count` and `_request_fetch`.

    Args:
        local: the namespace's local sockets.
        requests_timeout: seconds a request waits for the other servers.
        max_message_size: larger messages from the bus are dropped (bytes).
        max_disconnection_duration: see `InMemoryAdapter` (recovery on this node).
    """

    def __init__(
        self,
        local: LocalSockets,
        *,
        requests_timeout: float,
        max_message_size: int,
        max_disconnection_duration: float | None,
    ) -> None:
        super().__init__(local, max_disconnection_duration=max_disconnection_duration)
        self.requests_timeout = requests_timeout
        self.max_message_size = max_message_size
        #: response handlers of this node's pending requests, by request id
        self._requests: dict[str, ResponseHandler] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        #: the server count last read: a broadcast with acks expects a count from as many
        #: servers as the count its caller just read (``emit_with_ack`` reads it first)
        self._servers = 0

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _only_local_socket(self, opts: BroadcastOptions) -> bool:
        """Whether ``opts`` targets exactly one socket and it is here (``socket.emit``)."""
        if len(opts.rooms) != 1 or opts.except_rooms:
            return False
        return bool(self.local.sockets(opts.rooms))

    async def server_count(self) -> int:
        """How many servers share this namespace (at least this one)."""
        raise NotImplementedError

    async def _gather(
        self,
        rid: str,
        send: Callable[[], Awaitable[object]],
        expected: int,
        on_response: ResponseHandler,
        what: object,
    ) -> int:
        """Run ``send`` (it publishes request ``rid``), feed each response to ``on_response``.

        It waits until ``expected`` responses came or the requests timeout passed; returns how
        many came (``what`` names the request in the log line of a partial result).
        """
        done = asyncio.get_running_loop().create_future()
        received = 0

        def handle(response: dict[str, Any]) -> None:
            nonlocal received
            received += 1
            on_response(response)
            if received >= expected and not done.done():
                done.set_result(None)

        self._requests[rid] = handle
        try:
            await send()
            await asyncio.wait_for(asyncio.shield(done), self.requests_timeout)
        except TimeoutError:
            logger.warning(
                "siox cluster: request %s on %s: %d of %d servers answered in %.1f s "
                "(partial results)",
                what, self.nsp, received, expected, self.requests_timeout,
            )  # fmt: skip
        finally:
            self._requests.pop(rid, None)
        return received

    async def _broadcast_with_acks(
        self,
        rid: str,
        send: Callable[[], Awaitable[None]],
        read: Callable[[dict[str, Any], AckTally], None],
        packet: Packet,
        opts: BroadcastOptions,
        on_count: AckCount,
        on_reply: AckReply,
    ) -> None:
        """Broadcast with acks to every server and here.

        ``send`` publishes the request, ``read`` reports each response (a count or a reply) to
        the tally; at the timeout the request is dropped and what did not come is completed
        (`AckTally.expire`).
        """
        tally = AckTally((self._servers or await self.server_count()) - 1, on_count, on_reply)

        def on_response(response: dict[str, Any]) -> None:
            read(response, tally)

        def expire() -> None:
            if self._requests.pop(rid, None) is not None:
                tally.expire()

        self._requests[rid] = on_response
        await send()
        timeout = opts.timeout if opts.timeout is not None else self.requests_timeout
        asyncio.get_running_loop().call_later(timeout, expire)
        await super().broadcast_with_ack(packet, opts, on_count, on_reply)

    async def _request_fetch(
        self, opts: BroadcastOptions, expected: int, on_sockets: Callable[[Any], None]
    ) -> int:
        """Ask the other servers for their sockets selected by ``opts`` (see `_gather`).

        ``on_sockets`` gets each response's ``sockets`` list.
        """
        raise NotImplementedError

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[FetchedSocket]:
        """The selected sockets of every server that answers in time (remote: `RemoteSocket`)."""
        sockets = await super().fetch_sockets(opts)
        if opts.local:
            return sockets
        others = await self.server_count() - 1
        if others <= 0:
            return sockets
        remote: list[FetchedSocket] = []

        def on_sockets(items: Any) -> None:
            for item in items or ():
                try:
                    remote.append(RemoteSocket.from_wire(self, item))
                except WireError as exc:
                    logger.warning("siox cluster: dropped a fetched socket: %s", exc)

        await self._request_fetch(opts, others, on_sockets)
        return sockets + remote
