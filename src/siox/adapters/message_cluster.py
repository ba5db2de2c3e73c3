"""`MessageClusterAdapter`: socket.io-adapter 2.5's ``ClusterAdapter`` protocol over any transport.

The sharded Redis adapter and the Redis streams adapter speak it (see `siox.adapters.messages`);
they provide the transport: `_send` (returns the message's offset, when the transport has one),
`_send_response` (to one requester's channel), `server_count` and `ready`. Requests that wait
for other servers (``fetch_sockets``, server-side and broadcast acks) give what arrived by their
timeout: partial results, never an exception (npm's ``fetchSockets`` rejects). Messages are
checked and dropped with a log line when malformed; the caller's listener carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ..parser import Packet
from .base import AckCount, AckReply, BroadcastOptions, LocalSockets
from .memory import InMemoryAdapter
from .messages import MessageType, new_node_uid
from .remote import describe_socket
from .requesting import AckTally, RequestingAdapter
from .wire import (
    WireError,
    check_data,
    options_from_wire,
    options_to_wire,
    packet_from_wire,
    packet_to_wire,
)

__all__ = ["MessageClusterAdapter"]

logger = logging.getLogger("siox.cluster")
_T = MessageType


def _rooms_of(data: dict[str, Any]) -> list[str]:
    rooms = data.get("rooms")
    if not isinstance(rooms, list) or not all(isinstance(room, str) for room in rooms):
        raise WireError("rooms is not a list of strings")
    return rooms


def _ack_timeout(opts: dict[str, Any]) -> float | None:
    """The ack timeout a broadcast's flags carry (Node's milliseconds; a day at most)."""
    flags = opts.get("flags")
    timeout = flags.get("timeout") if isinstance(flags, dict) else None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        return None
    return timeout / 1000 if 0 <= timeout <= 86_400_000 else None


def _selection(opts: BroadcastOptions) -> dict[str, Any]:
    return {"rooms": sorted(opts.rooms), "except": sorted(opts.except_rooms), "flags": {}}


class MessageClusterAdapter(RequestingAdapter):
    """The in-memory adapter plus the cluster half of socket.io-adapter's ``ClusterAdapter``.

    Args:
        local: the namespace's local sockets.
        requests_timeout: seconds a request waits for the other servers.
        max_message_size: larger messages are dropped (bytes).
        max_disconnection_duration: see `InMemoryAdapter` (recovery on this node).
    """

    def __init__(
        self,
        local: LocalSockets,
        *,
        requests_timeout: float = 5.0,
        max_message_size: int = 8_000_000,
        max_disconnection_duration: float | None = None,
    ) -> None:
        super().__init__(
            local,
            requests_timeout=requests_timeout,
            max_message_size=max_message_size,
            max_disconnection_duration=max_disconnection_duration,
        )
        self.uid = new_node_uid()

    # -- the transport (subclasses) ---------------------------------------------------------------

    async def ready(self) -> None:
        """Subscribe if not done yet."""

    async def _send(self, message: dict[str, Any]) -> str:
        """Publish ``message`` to every server; its offset ("" when the transport has none)."""
        raise NotImplementedError

    async def _send_response(self, requester: str, message: dict[str, Any]) -> None:
        """Publish ``message`` to server ``requester`` only."""
        raise NotImplementedError

    # -- helpers ----------------------------------------------------------------------------------

    async def _publish(self, kind: MessageType, data: dict[str, Any]) -> str:
        message = {"uid": self.uid, "nsp": self.nsp, "type": int(kind), "data": data}
        try:
            return await self._send(message)
        except Exception as exc:
            logger.warning("siox cluster: could not publish a message of type %d: %r", kind, exc)
            return ""

    async def _respond(self, requester: str, kind: MessageType, data: dict[str, Any]) -> None:
        message = {"uid": self.uid, "nsp": self.nsp, "type": int(kind), "data": data}
        try:
            await self._send_response(requester, message)
        except Exception as exc:
            logger.warning("siox cluster: could not answer %s: %r", requester, exc)

    # -- incoming ---------------------------------------------------------------------------------

    async def on_message(self, message: Any, offset: str = "") -> None:
        """Act on one message from the cluster (raises `WireError` when malformed)."""
        if not isinstance(message, dict):
            raise WireError("a message that is not a map")
        uid, kind, data = message.get("uid"), message.get("type"), message.get("data")
        if uid == self.uid or message.get("nsp") != self.nsp:
            return
        if not isinstance(uid, str) or not isinstance(kind, int) or isinstance(kind, bool):
            raise WireError("a message without string uid or integer type")
        if kind in (_T.INITIAL_HEARTBEAT, _T.HEARTBEAT, _T.ADAPTER_CLOSE):
            return
        if not isinstance(data, dict):
            raise WireError(f"a message of type {kind} without data")
        rid = data.get("requestId")
        if rid is not None and not isinstance(rid, str):
            raise WireError("requestId is not a string")
        if kind == _T.BROADCAST:
            packet = packet_from_wire(data.get("packet"), self.nsp)
            if packet is None:
                return
            opts = options_from_wire(data.get("opts"))
            if rid is None:
                await self._deliver(packet, opts, offset)
            else:
                opts = replace(opts, timeout=_ack_timeout(data["opts"]))
                await self._broadcast_request(uid, rid, packet, opts)
        elif kind in (_T.SOCKETS_JOIN, _T.SOCKETS_LEAVE):
            opts, rooms = options_from_wire(data.get("opts")), _rooms_of(data)
            if kind == _T.SOCKETS_JOIN:
                await InMemoryAdapter.add_sockets(self, opts, rooms)
            else:
                await InMemoryAdapter.del_sockets(self, opts, rooms)
        elif kind == _T.DISCONNECT_SOCKETS:
            opts = options_from_wire(data.get("opts"))
            await InMemoryAdapter.disconnect_sockets(self, opts, data.get("close") is True)
        elif kind == _T.FETCH_SOCKETS:
            sockets = await InMemoryAdapter.fetch_sockets(self, options_from_wire(data.get("opts")))
            described = [describe_socket(socket) for socket in sockets]
            response = {"requestId": rid, "sockets": described}
            await self._respond(uid, _T.FETCH_SOCKETS_RESPONSE, response)
        elif kind == _T.SERVER_SIDE_EMIT:
            self._server_side_request(uid, rid, data.get("packet"))
        elif kind in (
            _T.FETCH_SOCKETS_RESPONSE,
            _T.SERVER_SIDE_EMIT_RESPONSE,
            _T.BROADCAST_CLIENT_COUNT,
            _T.BROADCAST_ACK,
        ):
            self.on_response(message)
        else:
            raise WireError(f"unknown message type {kind!r}")

    def on_response(self, message: Any) -> None:
        """Hand a response to the request waiting for it."""
        if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
            raise WireError("a response without data")
        handler = self._requests.get(message["data"].get("requestId"))
        if handler is not None:
            handler(message)

    async def _deliver(self, packet: Packet, opts: BroadcastOptions, offset: str) -> None:
        """Send a broadcast from another server to the local sockets."""
        await InMemoryAdapter.broadcast(self, packet, opts)

    async def _broadcast_request(
        self, requester: str, rid: str, packet: Packet, opts: BroadcastOptions
    ) -> None:
        def on_reply(sid: str, args: list[Any] | None) -> None:
            if args is None:
                return  # disconnected: no reply, as a Node server does
            reply: dict[str, Any] = {"requestId": rid, "packet": args[0] if args else None}
            reply["sid"], reply["args"] = sid, args  # for siox requesters; Node ignores them
            self._spawn(self._respond(requester, _T.BROADCAST_ACK, reply))

        counts: list[tuple[int, list[str]]] = []
        await InMemoryAdapter.broadcast_with_ack(
            self, packet, opts, lambda n, sids: counts.append((n, list(sids))), on_reply
        )
        count, sids = counts[0] if counts else (0, [])
        data = {"requestId": rid, "clientCount": count, "sids": sids}
        await self._respond(requester, _T.BROADCAST_CLIENT_COUNT, data)

    def _server_side_request(self, requester: str, rid: str | None, data: Any) -> None:
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            raise WireError("server-side emit packet is not [event, ...args]")
        check_data(data)
        ack: Callable[[Any], None] | None = None
        if rid is not None:
            answered = False

            def ack(value: Any) -> None:
                nonlocal answered
                if not answered:
                    answered = True
                    reply = {"requestId": rid, "packet": value}
                    self._spawn(self._respond(requester, _T.SERVER_SIDE_EMIT_RESPONSE, reply))

        self.local.server_side_event(data, ack)

    # -- outgoing ---------------------------------------------------------------------------------

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Send ``packet`` to the selected sockets of every server (this one only: ``local``)."""
        offset = ""
        if not opts.local and not self._only_local_socket(opts):
            try:
                await self.ready()
            except Exception as exc:  # the bus is down: the local half still goes out
                logger.warning("siox cluster: broadcast on %s stays local: %r", self.nsp, exc)
            else:
                wire = {"packet": packet_to_wire(packet), "opts": options_to_wire(opts)}
                offset = await self._publish(_T.BROADCAST, wire)
        await self._deliver(packet, opts, offset)

    async def broadcast_with_ack(
        self, packet: Packet, opts: BroadcastOptions, on_count: AckCount, on_reply: AckReply
    ) -> None:
        """Send with acks to every server; each reports its count, then its clients' replies."""
        if opts.local:
            await super().broadcast_with_ack(packet, opts, on_count, on_reply)
            return
        rid = new_node_uid()
        wire = {"packet": packet_to_wire(packet), "requestId": rid, "opts": options_to_wire(opts)}

        async def send() -> None:
            await self._publish(_T.BROADCAST, wire)

        def read(response: dict[str, Any], tally: AckTally) -> None:
            kind, data = response.get("type"), response["data"]
            if kind == _T.BROADCAST_CLIENT_COUNT:
                tally.count(data.get("clientCount"), data.get("sids"))
            elif kind == _T.BROADCAST_ACK:
                args = data.get("args")
                if not isinstance(args, list):  # socket.io-adapter: [packet] for one reply
                    args = [data.get("packet")]
                tally.reply(data.get("sid"), args)

        await self._broadcast_with_acks(rid, send, read, packet, opts, on_count, on_reply)

    async def _ask(
        self, kind: MessageType, data: dict[str, Any], expected: int, on_data: Callable[[Any], None]
    ) -> int:
        """Publish request ``data``; feed each response's data to ``on_data`` (see `_gather`)."""

        async def send() -> None:
            await self._publish(kind, data)

        def on_response(response: dict[str, Any]) -> None:
            on_data(response["data"])

        return await self._gather(data["requestId"], send, expected, on_response, int(kind))

    async def _request_fetch(
        self, opts: BroadcastOptions, expected: int, on_sockets: Callable[[Any], None]
    ) -> int:
        def on_data(data: dict[str, Any]) -> None:
            on_sockets(data.get("sockets"))

        request = {"opts": _selection(opts), "requestId": new_node_uid()}
        return await self._ask(_T.FETCH_SOCKETS, request, expected, on_data)

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the selected sockets of every server join ``rooms``."""
        rooms = sorted(rooms)
        if not opts.local:
            await self.ready()
            await self._publish(_T.SOCKETS_JOIN, {"opts": _selection(opts), "rooms": rooms})
        await super().add_sockets(opts, rooms)

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the selected sockets of every server leave ``rooms``."""
        rooms = sorted(rooms)
        if not opts.local:
            await self.ready()
            await self._publish(_T.SOCKETS_LEAVE, {"opts": _selection(opts), "rooms": rooms})
        await super().del_sockets(opts, rooms)

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        """Disconnect the selected sockets of every server."""
        if not opts.local:
            await self.ready()
            await self._publish(_T.DISCONNECT_SOCKETS, {"opts": _selection(opts), "close": close})
        await super().disconnect_sockets(opts, close)

    async def server_side_emit(self, args: list[Any]) -> None:
        """Send ``args`` (event first) to the other servers."""
        await self.ready()
        await self._publish(_T.SERVER_SIDE_EMIT, {"packet": args})

    async def server_side_emit_with_ack(
        self, args: list[Any], on_count: AckCount, on_reply: AckReply
    ) -> None:
        """`server_side_emit` expecting one reply per other server (missing ones: None)."""
        others = await self.server_count() - 1
        on_count(max(0, others), ())
        if others <= 0:
            return

        def on_data(data: dict[str, Any]) -> None:
            value = data.get("packet")
            check_data(value)
            on_reply("", [value])

        request = {"requestId": new_node_uid(), "packet": args}
        self._spawn(self._finish(request, others, on_data, on_reply))

    async def _finish(
        self,
        request: dict[str, Any],
        others: int,
        on_data: Callable[[Any], None],
        on_reply: AckReply,
    ) -> None:
        received = await self._ask(_T.SERVER_SIDE_EMIT, request, others, on_data)
        for _ in range(max(0, others - received)):
            on_reply("", None)
