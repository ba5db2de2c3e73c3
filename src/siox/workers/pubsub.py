"""A worker's side of the local hub: a `siox.adapters.pubsub.PubSub` over a Unix socket.

If the hub drops the link (a worker too slow to read its cluster messages), the link is made
again and every subscription renewed, with a growing pause between attempts; what was published
meanwhile is lost, as with Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence

from ..adapters.pubsub import MessageHandler
from .frames import COUNT, MSG, NUMSUB, PUB, SUB, UNSUB, FrameError, encode, split

__all__ = ["HubPubSub"]

logger = logging.getLogger("siox.workers")


class HubPubSub:
    """Publish and subscribe through the supervisor's hub (`siox.workers.hub`).

    Args:
        path: the hub's Unix socket.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._writer: asyncio.StreamWriter | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connecting: asyncio.Future[asyncio.StreamWriter] | None = None
        self._patterns: dict[str, MessageHandler] = {}
        self._channels: dict[str, MessageHandler] = {}
        self._counts: dict[bytes, asyncio.Future[int]] = {}
        self._ids = itertools.count()
        self._subscriptions: dict[str, tuple[str, ...]] = {}  # pattern -> channels
        self._closed = False

    async def _connect(self) -> asyncio.StreamWriter:
        if self._writer is not None:
            return self._writer
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
        return await asyncio.shield(self._connecting)

    async def _open(self) -> asyncio.StreamWriter:
        reader, writer = await asyncio.open_unix_connection(self.path)
        self._writer = writer
        self._reader = asyncio.ensure_future(self._read(reader))
        return writer

    async def _send(self, frame: bytes) -> None:
        writer = await self._connect()
        writer.write(frame)
        await writer.drain()

    async def publish(self, channel: str, message: bytes) -> None:
        """Publish ``message`` on ``channel``."""
        await self._send(encode(PUB, channel.encode(), message))

    async def subscribe(
        self, pattern: str, channels: Sequence[str], handler: MessageHandler
    ) -> None:
        """Deliver messages on ``pattern`` (a glob) and ``channels`` to ``handler``."""
        self._patterns[pattern] = handler
        for channel in channels:
            self._channels[channel] = handler
        self._subscriptions[pattern] = tuple(channels)
        await self._send(encode(SUB, pattern.encode(), *(c.encode() for c in channels)))

    async def unsubscribe(self, pattern: str, channels: Sequence[str]) -> None:
        """Undo `subscribe`."""
        self._patterns.pop(pattern, None)
        self._subscriptions.pop(pattern, None)
        for channel in channels:
            self._channels.pop(channel, None)
        if self._writer is not None and not self._writer.is_closing():
            with contextlib.suppress(OSError):
                await self._send(encode(UNSUB, pattern.encode(), *(c.encode() for c in channels)))

    async def numsub(self, channel: str) -> int:
        """How many workers subscribe to ``channel``."""
        rid = str(next(self._ids)).encode()
        future = self._counts[rid] = asyncio.get_running_loop().create_future()
        try:
            await self._send(encode(NUMSUB, rid, channel.encode()))
            return await asyncio.wait_for(future, 5.0)
        finally:
            self._counts.pop(rid, None)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        buffer = bytearray()
        try:
            while True:
                data = await reader.read(262144)
                if not data:
                    break
                buffer += data
                for op, items in split(buffer):
                    await self._dispatch(op, items)
        except (FrameError, IndexError, ValueError, OSError) as exc:
            logger.error("siox workers: the link to the hub failed: %r", exc)
        if self._closed:
            return
        logger.warning("siox workers: the hub closed the link; making it again")
        writer, self._writer, self._connecting = self._writer, None, None
        if writer is not None:
            writer.close()
        for future in self._counts.values():
            if not future.done():
                future.set_exception(ConnectionError("the link to the hub was lost"))
        await self._renew()  # (the new link gets a reader task of its own)

    async def _renew(self) -> None:
        pause = 0.1
        while not self._closed:
            await asyncio.sleep(pause)
            try:
                for pattern, channels in list(self._subscriptions.items()):
                    frame = encode(SUB, pattern.encode(), *(c.encode() for c in channels))
                    await self._send(frame)
                return
            except OSError as exc:
                logger.warning("siox workers: cannot reach the hub (%r); retrying", exc)
                self._writer = self._connecting = None
                pause = min(pause * 2, 5.0)

    async def _dispatch(self, op: int, items: list[bytes]) -> None:
        if op == MSG:
            key, channel = items[0].decode(), items[1].decode()
            table = self._patterns if key[:1] == "p" else self._channels
            handler = table.get(key[1:])
            if handler is not None:
                await handler(channel, items[2])
        elif op == COUNT:
            future = self._counts.get(items[0])
            if future is not None and not future.done():
                future.set_result(int(items[1]))

    async def close(self) -> None:
        """Close the link."""
        self._closed = True
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
