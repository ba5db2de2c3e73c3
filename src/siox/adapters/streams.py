"""The Redis streams adapter, wire-compatible with npm ``@socket.io/redis-streams-adapter`` 0.3.

socket.io-adapter's cluster messages (`siox.adapters.messages`): broadcasts without acks and bulk
operations are appended to the stream (``XADD stream MAXLEN ~ max_len``) and read by every node
with ``XREAD``; the others (broadcasts with acks, fetches, server-side emits) are published with
``@msgpack/msgpack`` on ``prefix#nsp#``, responses on ``prefix#nsp#<requester uid>#``; the server
count is ``PUBSUB NUMSUB prefix#nsp#``. As npm's options ``streamCount`` and ``useShardedPubSub``:
with ``stream_count > 1`` each namespace has one of ``stream_count`` streams (`stream_for`, the
same hash as npm), and with ``use_sharded_pubsub`` the Pub/Sub side is sharded (``SSUBSCRIBE``,
``SPUBLISH``, ``PUBSUB SHARDNUMSUB``; Redis 7.0+).

Connection state recovery works **across nodes**: a broadcast's offset is its stream entry id,
a disconnected socket's session is kept at ``sio:session:<pid>`` (msgpack, base64, expiring
after the recovery window), and the node a client comes back to reads what it missed from the
stream. The emitter is `siox.adapters.streams_emitter.RedisStreamsEmitter`.

(Over the 400-line soft cap: recovery reads back the stream this module writes, and belongs
beside its reader and writer.)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..parser import Packet, PacketType
from .base import BroadcastOptions, LocalSockets, SessionState
from .collision import refuse_message_collision
from .message_cluster import MessageClusterAdapter
from .messages import MessageType, decode_entry, decode_msgpack, encode_entry, encode_msgpack
from .pubsub import OrderedPublisher, settle
from .wire import WireError, check_data, options_from_wire, packet_from_wire

__all__ = ["RedisStreamsAdapter", "StreamReader", "redis_streams_adapter", "stream_for"]

logger = logging.getLogger("siox.cluster")

SESSION_PREFIX = "sio:session:"
_OFFSET = re.compile(r"[0-9]+-[0-9]+")
_EPHEMERAL = (MessageType.FETCH_SOCKETS, MessageType.SERVER_SIDE_EMIT)
_MAX_RANGE_CALLS = 100
_MAX_BACKOFF = 5.0


def _ephemeral(message: dict[str, Any]) -> bool:
    if message["type"] == MessageType.BROADCAST:
        return "requestId" in message["data"]
    return message["type"] in _EPHEMERAL


def stream_for(nsp: str, stream_name: str, stream_count: int = 1) -> str:
    """The stream namespace ``nsp`` uses among ``stream_count`` (npm's ``computeStreamName``).

    One stream: ``stream_name``. Several: ``stream_name-i`` with ``i`` the JavaScript
    ``hashCode(nsp) % stream_count`` (a 31-multiplier hash over UTF-16 code units, wrapped to
    a signed 32-bit integer; ``%`` keeps the hash's sign, so ``i`` may be negative).
    """
    if stream_count == 1:
        return stream_name
    units = nsp.encode("utf-16-le", "surrogatepass")
    code = 0
    for index in range(0, len(units), 2):
        code = (code * 31 + units[index] + (units[index + 1] << 8)) & 0xFFFFFFFF
    if code >= 0x80000000:
        code -= 0x100000000
    remainder = abs(code) % stream_count
    return f"{stream_name}-{-remainder if code < 0 else remainder}"


def _next_offset(offset: str) -> str:
    timestamp, sequence = offset.split("-")
    return f"{timestamp}-{int(sequence) + 1}"


class StreamReader:
    """The ``XREAD`` loop shared by the namespaces of one streams adapter factory."""

    def __init__(self, client: aioredis.Redis, stream_name: str, read_count: int) -> None:
        self.client = client
        self.stream_name = stream_name
        self.read_count = read_count
        self.block = 2000  # milliseconds an XREAD waits
        self.adapters: dict[str, RedisStreamsAdapter] = {}
        self._task: asyncio.Task[None] | None = None
        self._starting: asyncio.Future[None] | None = None
        self._offset: str | None = None
        #: the entries whose offsets nobody awaits (recovery off), appended in order, pipelined
        self.appender = OrderedPublisher[dict[str, str]](self._append)
        self.max_len = 10_000

    async def _append(self, batch: list[tuple[str, dict[str, str]]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for stream, fields in batch:
            pipe.xadd(stream, fields, maxlen=self.max_len, approximate=True)  # type: ignore[arg-type]
        await pipe.execute()

    async def start(self) -> None:
        """Start reading from the current end of the stream (once, whoever asks first)."""
        starting = self._starting
        if starting is None or (starting.done() and starting.exception() is not None):
            starting = self._starting = asyncio.ensure_future(self._start())
        await starting

    async def _start(self) -> None:
        if self._offset is None:
            # from the last entry written before this node came: it never replays older ones
            # (a stream that does not exist yet has none; "$" when the id cannot be read)
            offset = "0-0"
            if await self.client.exists(self.stream_name):
                info = await self.client.xinfo_stream(self.stream_name)
                last = info.get("last-generated-id") if isinstance(info, dict) else None
                offset = last.decode() if isinstance(last, bytes) else "$"
            self._offset = offset
        self._task = asyncio.ensure_future(self._poll())

    async def stop(self) -> None:
        """Append what is queued (for 5 s at most), then stop reading."""
        await self.appender.flush(5.0)
        task, self._task, self._starting = self._task, None, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _poll(self) -> None:
        backoff = 0.1
        while True:
            assert self._offset is not None
            try:
                reply = await self.client.xread(
                    {self.stream_name: self._offset}, count=self.read_count, block=self.block
                )
            except (RedisError, OSError) as exc:
                logger.warning("siox cluster: reading stream %s failed (%r), retrying",
                               self.stream_name, exc)  # fmt: skip
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
                continue
            backoff = 0.1
            for _stream, entries in reply or ():
                for entry_id, fields in entries:
                    offset = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                    self._offset = offset
                    nsp = fields.get(b"nsp")
                    adapter = self.adapters.get(nsp.decode("utf-8", "replace")) if nsp else None
                    if adapter is not None:
                        await adapter.on_entry(fields, offset)


class RedisStreamsAdapter(MessageClusterAdapter):
    """socket.io-adapter's cluster protocol over a Redis stream and Pub/Sub (see the module)."""

    def __init__(
        self,
        local: LocalSockets,
        reader: StreamReader,
        pubsub: Any,
        *,
        channel_prefix: str = "socket.io",
        max_len: int = 10_000,
        session_prefix: str = SESSION_PREFIX,
        sharded: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(local, **options)
        self.reader = reader
        self.pubsub = pubsub
        self.client: aioredis.Redis = reader.client
        #: Pub/Sub through ``SPUBLISH`` / ``PUBSUB SHARDNUMSUB`` (npm's ``useShardedPubSub``)
        self.sharded = sharded
        self.stream_name = reader.stream_name
        self.max_len = max_len
        self.session_prefix = session_prefix
        self.prefix = channel_prefix
        self.channel = f"{channel_prefix}#{self.nsp}#"
        self.private_channel = f"{self.channel}{self.uid}#"
        reader.adapters[self.nsp] = self
        self._started: asyncio.Task[None] | None = None
        with contextlib.suppress(RuntimeError):  # no loop yet: the first operation subscribes
            asyncio.get_running_loop()
            self._started = asyncio.ensure_future(self._subscribe())

    async def _subscribe(self) -> None:
        await refuse_message_collision(self.client, self.prefix, self.nsp)
        await self.reader.start()
        await self.pubsub.subscribe("", (self.channel, self.private_channel), self._on_pubsub)

    async def ready(self) -> None:
        """Subscribe and start reading the stream if not done yet."""
        started = self._started
        if started is None or (started.done() and started.exception() is not None):
            started = self._started = asyncio.ensure_future(self._subscribe())
        await started

    async def close(self) -> None:
        """Unsubscribe; stop reading the stream when no namespace is left."""
        await settle(self._started)
        self.reader.adapters.pop(self.nsp, None)
        await self.pubsub.unsubscribe("", (self.channel, self.private_channel))
        if not self.reader.adapters:
            await self.reader.stop()
        self._started = None
        self._requests.clear()

    # -- transport --------------------------------------------------------------------------------

    async def _on_pubsub(self, channel: str, data: bytes) -> None:
        try:
            await self.on_message(decode_msgpack(data, self.max_message_size))
        except WireError as exc:
            logger.warning("siox cluster: dropped a message on %s: %s", channel, exc)
        except Exception:
            logger.exception("siox cluster: error on a message on %s (dropped)", channel)

    async def on_entry(self, fields: dict[bytes, bytes], offset: str) -> None:
        """Act on one stream entry (logged and dropped when malformed)."""
        try:
            await self.on_message(decode_entry(fields, self.max_message_size), offset)
        except WireError as exc:
            logger.warning(
                "siox cluster: dropped entry %s of %s: %s", offset, self.stream_name, exc
            )
        except Exception:
            logger.exception("siox cluster: error on entry %s of %s", offset, self.stream_name)

    async def _publish_raw(self, channel: str, payload: bytes) -> None:
        if self.sharded:
            await self.client.execute_command("SPUBLISH", channel, payload)  # type: ignore[no-untyped-call]
        else:
            await self.client.publish(channel, payload)

    async def _send(self, message: dict[str, Any]) -> str:
        if _ephemeral(message):
            await self._publish_raw(self.channel, encode_msgpack(message))
            return ""
        if self._window is None:  # nobody needs the offset: appended in order, not awaited
            await self.reader.appender.publish(self.stream_name, encode_entry(message))
            return ""
        entry_id = await self.client.xadd(
            self.stream_name,
            encode_entry(message),  # type: ignore[arg-type]
            maxlen=self.max_len,
            approximate=True,
        )
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def _send_response(self, requester: str, message: dict[str, Any]) -> None:
        await self._publish_raw(f"{self.channel}{requester}#", encode_msgpack(message))

    async def server_count(self) -> int:
        """``PUBSUB NUMSUB`` (``SHARDNUMSUB`` when sharded) on the namespace channel (>= 1)."""
        await self.ready()
        self._servers = max(1, await self.pubsub.numsub(self.channel))
        return self._servers

    # -- recovery across nodes --------------------------------------------------------------------

    def _only_local_socket(self, opts: BroadcastOptions) -> bool:
        # with recovery on, a packet for one socket goes to the stream too: the socket may come
        # back on another node
        return self._window is None and super()._only_local_socket(opts)

    async def _deliver(self, packet: Packet, opts: BroadcastOptions, offset: str) -> None:
        if (
            self._window is not None
            and offset
            and packet.type is PacketType.EVENT
            and packet.id is None
            and not opts.volatile
        ):
            packet = Packet(PacketType.EVENT, packet.nsp, [*packet.data, offset])
        self.local.send(self._select(opts), packet, opts)

    async def persist_session(self, session: SessionState) -> None:
        """Keep ``session`` in Redis for the recovery window (``sio:session:<pid>``)."""
        if self._window is None:
            return
        value: dict[str, Any] = {"sid": session.sid, "pid": session.pid}
        value |= {"rooms": session.rooms, "data": session.data}
        try:
            encoded = base64.b64encode(encode_msgpack(value))
            await self.client.set(
                self.session_prefix + session.pid, encoded, px=max(1, round(self._window * 1000))
            )
        except Exception as exc:
            logger.warning("siox cluster: session %s not kept: %r", session.sid, exc)

    async def restore_session(self, pid: str, offset: str) -> SessionState | None:
        """The session of ``pid`` from Redis, with the stream's packets after ``offset``."""
        if self._window is None or not _OFFSET.fullmatch(offset):
            return None
        key = self.session_prefix + pid
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(key)
            pipe.delete(key)
            raw, _ = await pipe.execute()
        if not raw or not await self.client.xrange(self.stream_name, offset, offset):
            return None
        try:
            state = decode_msgpack(base64.b64decode(raw, validate=True), self.max_message_size)
            session = self._session_from(pid, state)
        except (WireError, binascii.Error, ValueError) as exc:
            logger.warning("siox cluster: session %s unreadable: %s", pid, exc)
            return None
        rooms = set(session.rooms)
        for _ in range(_MAX_RANGE_CALLS):
            entries = await self.client.xrange(self.stream_name, _next_offset(offset), "+", 1000)
            if not entries:
                break
            for entry_id, fields in entries:
                offset = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                if fields.get(b"nsp") != self.nsp.encode() or fields.get(b"type") != b"3":
                    continue
                try:
                    missed = self._missed(decode_entry(fields, self.max_message_size), rooms)
                except WireError as exc:
                    logger.warning("siox cluster: entry %s skipped: %s", offset, exc)
                    continue
                if missed is not None:
                    session.missed_packets.append([*missed, offset])
        return session

    @staticmethod
    def _session_from(pid: str, state: Any) -> SessionState:
        if not isinstance(state, dict):
            raise WireError("a session that is not a map")
        sid, rooms, data = state.get("sid"), state.get("rooms"), state.get("data") or {}
        if not isinstance(sid, str) or not isinstance(rooms, list) or not isinstance(data, dict):
            raise WireError("a session without sid, rooms or data")
        if not all(isinstance(room, str) for room in rooms):
            raise WireError("a session room that is not a string")
        check_data(data)
        return SessionState(sid, pid, rooms, data)

    def _missed(self, message: dict[str, Any], rooms: set[str]) -> list[Any] | None:
        data = message.get("data")
        if not isinstance(data, dict) or "requestId" in data:
            return None
        packet = packet_from_wire(data.get("packet"), self.nsp)
        opts = options_from_wire(data.get("opts"))
        if packet is None or (data.get("opts") or {}).get("flags", {}).get("volatile"):
            return None
        included = not opts.rooms or not rooms.isdisjoint(opts.rooms)
        return list(packet.data) if included and rooms.isdisjoint(opts.except_rooms) else None


def redis_streams_adapter(
    client: aioredis.Redis,
    *,
    stream_name: str = "socket.io",
    channel_prefix: str = "socket.io",
    max_len: int = 10_000,
    read_count: int = 100,
    session_key_prefix: str = SESSION_PREFIX,
    requests_timeout: float = 5.0,
    max_message_size: int = 8_000_000,
    max_disconnection_duration: float | None = None,
    stream_count: int = 1,
    use_sharded_pubsub: bool = False,
) -> Callable[[LocalSockets], RedisStreamsAdapter]:
    """The adapter factory for ``siox.Server(adapter=...)``: the Redis streams adapter.

    Pair it with ``connection_state_recovery=True`` on the server for recovery across nodes.

    Args:
        client: a ``redis.asyncio.Redis`` returning bytes (Redis/Valkey 6.2 or later).
        stream_name: the stream every node appends to and reads (npm's ``streamName``).
        channel_prefix: the Pub/Sub channel prefix (npm's ``channelPrefix``).
        max_len: the stream is trimmed to about this many entries (npm's ``maxLen``).
        read_count: entries read per ``XREAD`` (npm's ``readCount``).
        session_key_prefix: where sessions are kept (npm's ``sessionKeyPrefix``).
        requests_timeout: seconds requests to other servers wait; then partial results.
        max_message_size: larger messages from Redis are logged and dropped (bytes).
        max_disconnection_duration: the recovery window (seconds); by default the server's
            ``connection_state_recovery`` window.
        stream_count: how many streams the namespaces are spread over (npm's
            ``streamCount``; each namespace keeps one, see `stream_for`, so its order holds).
        use_sharded_pubsub: Pub/Sub with ``SSUBSCRIBE``/``SPUBLISH`` (npm's
            ``useShardedPubSub``; Redis 7.0+, else `ShardedPubSubUnsupported` on first use).

    Raises:
        ValueError: ``stream_count`` below 1.
    """
    from .redis import RedisPubSub  # the shared Pub/Sub subscriber (and its client check)
    from .sharded import ShardedSubscriber

    if stream_count < 1:
        raise ValueError("stream_count must be >= 1")
    pubsub = ShardedSubscriber(client) if use_sharded_pubsub else RedisPubSub(client)
    readers: dict[str, StreamReader] = {}

    def reader_for(nsp: str) -> StreamReader:
        name = stream_for(nsp, stream_name, stream_count)
        reader = readers.get(name)
        if reader is None:
            reader = readers[name] = StreamReader(client, name, read_count)
            reader.max_len = max_len
        return reader

    def factory(local: LocalSockets) -> RedisStreamsAdapter:
        return RedisStreamsAdapter(
            local,
            reader_for(local.name),
            pubsub,
            channel_prefix=channel_prefix,
            max_len=max_len,
            session_prefix=session_key_prefix,
            sharded=use_sharded_pubsub,
            requests_timeout=requests_timeout,
            max_message_size=max_message_size,
            max_disconnection_duration=max_disconnection_duration,
        )

    return factory
