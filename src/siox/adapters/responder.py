"""`ClusterResponder`: the half of a cluster adapter that answers the other servers.

It holds what both halves share (the bus, this node's uid, the channels, the pending requests)
and answers requests of the classic protocol (npm ``@socket.io/redis-adapter`` 8.3): socket
lists, rooms, remote joins/leaves/disconnects, fetches, server-side emits and broadcasts with
acks, acting on this node's sockets only. Everything it reads has been decoded by
`siox.adapters.wire` and is checked before use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from .base import BroadcastOptions, LocalSockets
from .memory import InMemoryAdapter
from .pubsub import PubSub, new_uid
from .remote import describe_socket
from .requesting import RequestingAdapter
from .wire import (
    RequestType,
    WireError,
    check_data,
    decode_message,
    encode_json,
    encode_notepack,
    options_from_wire,
    packet_from_wire,
)

__all__ = ["ClusterResponder"]

logger = logging.getLogger("siox.cluster")


def _json_ready(described: dict[str, Any]) -> dict[str, Any]:
    """A described socket whose ``data`` JSON cannot carry goes without it (with a warning)."""
    try:
        encode_json(described)
    except TypeError as exc:
        logger.warning("siox cluster: socket %s sent without its data: %s", described["id"], exc)
        described = {**described, "data": {}}
    return described


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise WireError("rooms is not a list of strings")
    return value


class ClusterResponder(RequestingAdapter):
    """The local half (in memory) and the answering half of a cluster adapter.

    Args:
        local: the namespace's local sockets.
        pubsub: the bus.
        key: the channel prefix.
        requests_timeout: seconds a request waits for other servers.
        max_message_size: larger messages from the bus are dropped (bytes).
        max_disconnection_duration: see `InMemoryAdapter`.
    """

    def __init__(
        self,
        local: LocalSockets,
        pubsub: PubSub,
        *,
        key: str,
        requests_timeout: float,
        max_message_size: int,
        max_disconnection_duration: float | None,
    ) -> None:
        super().__init__(
            local,
            requests_timeout=requests_timeout,
            max_message_size=max_message_size,
            max_disconnection_duration=max_disconnection_duration,
        )
        self.pubsub = pubsub
        self.uid = new_uid()
        nsp = local.name
        self.channel = f"{key}#{nsp}#"
        self.request_channel = f"{key}-request#{nsp}#"
        self.response_channel = f"{key}-response#{nsp}#"
        self.specific_response_channel = f"{self.response_channel}{self.uid}#"

    async def _publish(self, channel: str, message: bytes) -> None:
        try:
            await self.pubsub.publish(channel, message)
        except Exception as exc:
            logger.warning("siox cluster: could not publish on %s: %r", channel, exc)

    async def _on_request(self, message: bytes) -> None:
        request = decode_message(message, self.max_message_size)
        if not isinstance(request, dict):
            raise WireError("a request that is not a map")
        kind, rid = request.get("type"), request.get("requestId")
        if rid is not None and not isinstance(rid, str):
            raise WireError("requestId is not a string")
        mine = rid in self._requests or request.get("uid") == self.uid
        if kind == RequestType.SOCKETS and not mine:
            opts = BroadcastOptions(rooms=frozenset(_str_list(request.get("rooms", []))))
            await self._respond({"requestId": rid, "sockets": sorted(self._select(opts))})
        elif kind == RequestType.ALL_ROOMS and not mine:
            await self._respond({"requestId": rid, "rooms": sorted(self.local.rooms.rooms())})
        elif kind in (RequestType.REMOTE_JOIN, RequestType.REMOTE_LEAVE) and not mine:
            await self._remote_membership(request, kind == RequestType.REMOTE_JOIN)
        elif kind == RequestType.REMOTE_DISCONNECT and not mine:
            close = request.get("close") is True
            if "opts" in request:
                await InMemoryAdapter.disconnect_sockets(
                    self, options_from_wire(request["opts"]), close
                )
            else:
                for socket in self.local.sockets((str(request.get("sid")),)):
                    await socket.disconnect(close)
                    await self._respond({"requestId": rid})
        elif kind == RequestType.REMOTE_FETCH and not mine:
            opts = options_from_wire(request.get("opts"))
            sockets = await InMemoryAdapter.fetch_sockets(self, opts)
            described = [_json_ready(describe_socket(socket)) for socket in sockets]
            await self._respond({"requestId": rid, "sockets": described})
        elif kind == RequestType.SERVER_SIDE_EMIT and not mine:
            self._server_side_request(request.get("data"), rid)
        elif kind == RequestType.BROADCAST and not mine:
            await self._broadcast_request(request, rid)
        elif kind not in range(10):
            raise WireError(f"unknown request type {kind!r}")

    async def _respond(self, response: dict[str, Any]) -> None:
        await self._publish(self.response_channel, encode_json(response))

    async def _remote_membership(self, request: dict[str, Any], join: bool) -> None:
        if "opts" in request:
            opts, rooms = options_from_wire(request["opts"]), _str_list(request.get("rooms"))
            if join:
                await InMemoryAdapter.add_sockets(self, opts, rooms)
            else:
                await InMemoryAdapter.del_sockets(self, opts, rooms)
            return
        room = request.get("room")
        if not isinstance(room, str):
            raise WireError("room is not a string")
        for socket in self.local.sockets((str(request.get("sid")),)):
            await (socket.join(room) if join else socket.leave(room))
            await self._respond({"requestId": request.get("requestId")})

    def _server_side_request(self, data: Any, rid: str | None) -> None:
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            raise WireError("server-side emit data is not [event, ...args]")
        check_data(data)
        ack: Callable[[Any], None] | None = None
        if rid is not None:
            answered = False

            def ack(value: Any) -> None:
                nonlocal answered
                if answered:
                    return
                answered = True
                reply = {"type": RequestType.SERVER_SIDE_EMIT, "requestId": rid, "data": value}
                try:
                    encoded = encode_json(reply)
                except TypeError as exc:
                    logger.warning("siox cluster: a server-side reply not sent: %s", exc)
                    return
                self._spawn(self._publish(self.response_channel, encoded))

        self.local.server_side_event(data, ack)

    async def _broadcast_request(self, request: dict[str, Any], rid: str | None) -> None:
        packet = packet_from_wire(request.get("packet"), self.nsp)
        if packet is None or rid is None:
            return
        opts = options_from_wire(request.get("opts"))
        counts: list[tuple[int, list[str]]] = []

        def on_reply(sid: str, args: list[Any] | None) -> None:
            if args is None:
                return  # disconnected: no reply, as a Node server does
            reply: dict[str, Any] = {"type": RequestType.BROADCAST_ACK, "requestId": rid}
            if args:
                reply["packet"] = args[0]
            reply["sid"], reply["args"] = sid, args  # for siox requesters; Node ignores them
            self._spawn(self._publish(self.response_channel, encode_notepack(reply)))

        def on_count(count: int, sids: Iterable[str]) -> None:
            counts.append((count, list(sids)))

        await InMemoryAdapter.broadcast_with_ack(self, packet, opts, on_count, on_reply)
        count, sids = counts[0] if counts else (0, [])
        kind = RequestType.BROADCAST_CLIENT_COUNT
        await self._respond({"type": kind, "requestId": rid, "clientCount": count, "sids": sids})
