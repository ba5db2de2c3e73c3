"""`SocketEmitter`: emits to one socket with flags (``socket.timeout(s)``, ``.compress(flag)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the socket module imports this one
    from .socket import Socket

__all__ = ["SocketEmitter"]


class SocketEmitter:
    """Emits to one socket with flags, as ``socket.timeout(5).emit_with_ack(...)`` in socket.io.

    Made by `siox.Socket.timeout` and `siox.Socket.compress`; each method returns a new
    emitter, so flags chain: ``socket.compress(False).timeout(2.0).emit_with_ack("ask")``.

    Args:
        socket: the socket emitted to.
        timeout: seconds `emit_with_ack` waits for the ack (None: no limit).
        compress: whether the packets may be compressed (True).
    """

    __slots__ = ("compress_flag", "socket", "timeout_seconds")

    def __init__(self, socket: Socket, *, timeout: float | None = None, compress: bool = True):
        self.socket = socket
        self.timeout_seconds = timeout
        self.compress_flag = compress

    def timeout(self, seconds: float) -> SocketEmitter:
        """The same flags, with an ack timeout of ``seconds``."""
        return SocketEmitter(self.socket, timeout=seconds, compress=self.compress_flag)

    def compress(self, flag: bool = True) -> SocketEmitter:
        """The same flags, with compression on or off."""
        return SocketEmitter(self.socket, timeout=self.timeout_seconds, compress=flag)

    async def emit(self, event: str, *args: Any) -> None:
        """`siox.Socket.emit` with these flags."""
        await self.socket.emit_flagged(event, args, compress=self.compress_flag)

    async def send(self, *args: Any) -> None:
        """`siox.Socket.send` with these flags (a ``"message"`` event)."""
        await self.emit("message", *args)

    async def emit_with_ack(self, event: str, *args: Any) -> Any:
        """`siox.Socket.emit_with_ack` with these flags.

        Returns:
            None, the value, or a tuple, for an ack with 0, 1 or several arguments.

        Raises:
            AckTimeout: no ack within the timeout.
            NotConnected: the socket disconnected first (or was not connected).
        """
        return await self.socket.emit_with_ack_flagged(
            event, args, timeout=self.timeout_seconds, compress=self.compress_flag
        )
