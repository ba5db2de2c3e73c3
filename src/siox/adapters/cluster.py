"""`ClusterAdapter`: the in-memory adapter plus a cluster half over any publish/subscribe bus.

It speaks the classic protocol of npm ``@socket.io/redis-adapter`` 8.3 (see `siox.adapters.wire`)
on the channels that adapter uses, for namespace ``nsp`` and key ``key``:

* ``key#nsp#`` and ``key#nsp#room#`` (pattern ``key#nsp#*``): broadcasts;
* ``key-request#nsp#``: requests (every node holds exactly one subscription to it, so
  ``PUBSUB NUMSUB`` on it is the server count);
* ``key-response#nsp#`` and ``key-response#nsp#<uid>#``: responses.

Requests that wait for other servers (``fetch_sockets``, server-side and broadcast acks) give
what arrived by their timeout: partial results, never an exception. Messages from the bus are
checked and dropped with a log line naming the channel when they are malformed; the listener
carries on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from ..parser import Packet
from .base import AckCount, AckReply, BroadcastOptions, LocalSockets
from .memory import InMemoryAdapter
from .pubsub import MessageHandler, PubSub, new_uid, settle
from .requesting import AckTally
from .responder import ClusterResponder
from .wire import (
    RequestType,
    WireError,
    check_data,
    decode_broadcast,
    decode_message,
    encode_broadcast,
    encode_json,
    encode_notepack,
    options_to_wire,
    packet_to_wire,
)

__all__ = ["ClusterAdapter", "MessageHandler", "PubSub"]

logger = logging.getLogger("siox.cluster")


class ClusterAdapter(ClusterResponder):
    """A cluster adapter: local sockets in memory, other servers through ``pubsub``.

    Args:
        local: the namespace's local sockets.
        pubsub: the bus.
        key: the channel prefix (npm's ``key`` option, ``"socket.io"``).
        requests_timeout: seconds a request waits for other servers (npm's
            ``requestsTimeout``); also bounds broadcast acks awaited without a timeout.
        max_message_size: larger messages from the bus are dropped (bytes).
        max_disconnection_duration: see `InMemoryAdapter` (recovery on this node only).
    """

    def __init__(
        self,
        local: LocalSockets,
        pubsub: PubSub,
        *,
        key: str = "socket.io",
        requests_timeout: float = 5.0,
        max_message_size: int = 8_000_000,
        max_disconnection_duration: float | None = None,
    ) -> None:
        super().__init__(
            local,
            pubsub,
            key=key,
            requests_timeout=requests_timeout,
            max_message_size=max_message_size,
            max_disconnection_duration=max_disconnection_duration,
        )
        self._started: asyncio.Task[None] | None = None
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no loop yet: the first operation subscribes
        else:
            self._started = asyncio.ensure_future(self._subscribe())

    # -- the subscription -------------------------------------------------------------------------

    async def _subscribe(self) -> None:
        channels = (self.request_channel, self.response_channel, self.specific_response_channel)
        await self.pubsub.subscribe(self.channel + "*", channels, self._on_message)

    async def ready(self) -> None:
        """Subscribe if not done yet (every operation does this first)."""
        started = self._started
        if started is None or (started.done() and started.exception() is not None):
            started = self._started = asyncio.ensure_future(self._subscribe())
        await started

    async def close(self) -> None:
        """Unsubscribe (once a subscription under way is done) and forget pending requests."""
        await settle(self._started)
        if self._started is not None and self._started.done() and not self._started.exception():
            channels = (self.request_channel, self.response_channel, self.specific_response_channel)
            await self.pubsub.unsubscribe(self.channel + "*", channels)
        self._started = None
        self._requests.clear()

    # -- incoming ---------------------------------------------------------------------------------

    async def _on_message(self, channel: str, message: bytes) -> None:
        try:
            if channel == self.request_channel:
                await self._on_request(message)
            elif channel.startswith(self.response_channel):
                self._on_response(message)
            elif channel.startswith(self.channel):
                await self._on_broadcast(channel, message)
        except WireError as exc:
            logger.warning("siox cluster: dropped a message on %s: %s", channel, exc)
        except Exception:
            logger.exception("siox cluster: error on a message on %s (dropped)", channel)

    async def _on_broadcast(self, channel: str, message: bytes) -> None:
        room = channel[len(self.channel) : -1]
        if room and not self.local.rooms.select((room,)) and not self._kept_room(room):
            return  # nobody here is in that room, not even a socket that may come back
        decoded = decode_broadcast(message, self.nsp, self.max_message_size)
        if decoded is None or decoded[0] == self.uid:
            return
        _, packet, opts = decoded
        await InMemoryAdapter.broadcast(self, packet, opts)

    def _on_response(self, message: bytes) -> None:
        response = decode_message(message, self.max_message_size)
        if not isinstance(response, dict):
            raise WireError("a response that is not a map")
        rid = response.get("requestId")
        if not isinstance(rid, str):
            raise WireError("a response without a string requestId")
        handler = self._requests.get(rid)
        if handler is not None:
            handler(response)

    # -- outgoing ---------------------------------------------------------------------------------

    async def server_count(self) -> int:
        """How many servers subscribe to this namespace's request channel."""
        await self.ready()
        self._servers = max(1, await self.pubsub.numsub(self.request_channel))
        return self._servers

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Send ``packet`` to the selected sockets of every server (this one only: ``local``)."""
        if not opts.local and not self._only_local_socket(opts):
            message = encode_broadcast(self.uid, packet, opts)
            channel = self.channel
            if len(opts.rooms) == 1:
                channel += f"{next(iter(opts.rooms))}#"
            try:
                await self.ready()
            except Exception as exc:  # the bus is down: the local half still goes out
                logger.warning("siox cluster: broadcast on %s stays local: %r", self.nsp, exc)
            else:
                await self._publish(channel, message)
        await super().broadcast(packet, opts)

    async def broadcast_with_ack(
        self, packet: Packet, opts: BroadcastOptions, on_count: AckCount, on_reply: AckReply
    ) -> None:
        """Send with acks to every server; each reports its count, then its clients' replies."""
        if opts.local:
            await super().broadcast_with_ack(packet, opts, on_count, on_reply)
            return
        rid = new_uid()
        wire = {"uid": self.uid, "requestId": rid, "type": RequestType.BROADCAST}
        wire |= {"packet": packet_to_wire(packet), "opts": options_to_wire(opts)}

        async def send() -> None:
            await self._publish(self.request_channel, encode_notepack(wire))

        def read(response: dict[str, Any], tally: AckTally) -> None:
            kind = response.get("type")
            if kind == RequestType.BROADCAST_CLIENT_COUNT:
                tally.count(response.get("clientCount"), response.get("sids", []))
            elif kind == RequestType.BROADCAST_ACK:
                args = response.get("args")
                if not isinstance(args, list):  # the classic protocol: [] for no reply
                    args = [response["packet"]] if "packet" in response else []
                tally.reply(response.get("sid"), args)

        await self._broadcast_with_acks(rid, send, read, packet, opts, on_count, on_reply)

    async def _request_fetch(
        self, opts: BroadcastOptions, expected: int, on_sockets: Callable[[Any], None]
    ) -> int:
        rid = new_uid()
        request = {"uid": self.uid, "requestId": rid, "type": RequestType.REMOTE_FETCH}
        request["opts"] = {"rooms": sorted(opts.rooms), "except": sorted(opts.except_rooms)}

        async def send() -> None:
            await self._publish(self.request_channel, encode_json(request))

        def on_response(response: dict[str, Any]) -> None:
            on_sockets(response.get("sockets"))

        return await self._gather(rid, send, expected, on_response, RequestType.REMOTE_FETCH)

    async def _bulk(self, kind: int, opts: BroadcastOptions, **fields: Any) -> None:
        await self.ready()
        request = {"uid": self.uid, "type": kind, **fields}
        request["opts"] = {"rooms": sorted(opts.rooms), "except": sorted(opts.except_rooms)}
        await self._publish(self.request_channel, encode_json(request))

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the selected sockets of every server join ``rooms``."""
        rooms = sorted(rooms)
        if not opts.local:
            await self._bulk(RequestType.REMOTE_JOIN, opts, rooms=rooms)
        await super().add_sockets(opts, rooms)

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the selected sockets of every server leave ``rooms``."""
        rooms = sorted(rooms)
        if not opts.local:
            await self._bulk(RequestType.REMOTE_LEAVE, opts, rooms=rooms)
        await super().del_sockets(opts, rooms)

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        """Disconnect the selected sockets of every server."""
        if not opts.local:
            await self._bulk(RequestType.REMOTE_DISCONNECT, opts, close=close)
        await super().disconnect_sockets(opts, close)

    async def server_side_emit(self, args: list[Any]) -> None:
        """Send ``args`` (event first; JSON values only) to the other servers."""
        message = encode_json({"uid": self.uid, "type": RequestType.SERVER_SIDE_EMIT, "data": args})
        await self.ready()
        await self._publish(self.request_channel, message)

    async def server_side_emit_with_ack(
        self, args: list[Any], on_count: AckCount, on_reply: AckReply
    ) -> None:
        """`server_side_emit` expecting one reply per other server (missing ones: None)."""
        rid = new_uid()
        message = {"uid": self.uid, "requestId": rid, "type": RequestType.SERVER_SIDE_EMIT}
        encoded = encode_json(message | {"data": args})
        others = await self.server_count() - 1
        on_count(max(0, others), ())
        if others <= 0:
            return
        left = others

        def on_response(response: dict[str, Any]) -> None:
            nonlocal left
            if response.get("type") != RequestType.SERVER_SIDE_EMIT or left <= 0:
                return
            data = response.get("data")
            check_data(data)
            left -= 1
            on_reply("", [data])

        def expire() -> None:
            if self._requests.pop(rid, None) is not None:
                for _ in range(left):
                    on_reply("", None)

        self._requests[rid] = on_response
        await self._publish(self.request_channel, encoded)
        asyncio.get_running_loop().call_later(self.requests_timeout, expire)
