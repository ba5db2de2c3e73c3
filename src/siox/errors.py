"""Every exception siox raises, under one root.

The tree::

    SioxError
     +-- ProtocolError               the peer broke the protocol; carries the reply to give
     |    +-- InvalidPacket          a malformed or out-of-state packet or payload
     |    +-- PayloadTooLarge        a size limit was crossed (HTTP 413, close 1009)
     |    +-- HandshakeError         an Engine.IO request that must be refused (HTTP 400/403)
     +-- ConnectionRefused           raised by middleware/connect handlers to refuse a client
     +-- AckTimeout (also TimeoutError)
     +-- NotConnected
     +-- CapExceeded                 a configured cap (`siox.options.Caps`) refused the operation

A `ProtocolError` is always about the *remote* side. Misuse of the API by the application raises
the ordinary `TypeError`, `ValueError` or `RuntimeError` instead.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AckTimeout",
    "CapExceeded",
    "ConnectionRefused",
    "HandshakeError",
    "InvalidPacket",
    "NotConnected",
    "PayloadTooLarge",
    "ProtocolError",
    "SioxError",
]


class SioxError(Exception):
    """Root of every exception siox raises on purpose."""


class ProtocolError(SioxError):
    """The peer sent something the protocol does not allow.

    Besides the message, it carries the answer the I/O layer should give:

    Attributes:
        http_status: HTTP status for a polling request (400 unless a subclass says otherwise).
        eio_error: Engine.IO JSON error code (``{"code": N, "message": ...}``), or None when
            the reply is not an Engine.IO error document.
        ws_close_code: WebSocket close code to close the connection with.
    """

    default_http_status: ClassVar[int | None] = 400
    default_ws_close_code: ClassVar[int | None] = 1002

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        eio_error: int | None = None,
        ws_close_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = self.default_http_status if http_status is None else http_status
        self.eio_error = eio_error
        self.ws_close_code = self.default_ws_close_code if ws_close_code is None else ws_close_code


class InvalidPacket(ProtocolError):
    """A malformed packet or payload, at the Engine.IO or the Socket.IO layer."""


class PayloadTooLarge(ProtocolError):
    """A configured size limit was crossed by bytes actually received."""

    default_http_status: ClassVar[int | None] = 413
    default_ws_close_code: ClassVar[int | None] = 1009


class HandshakeError(ProtocolError):
    """An Engine.IO HTTP request the server refuses (the JSON error code says why)."""


class ConnectionRefused(SioxError):
    """Raised by a middleware or a connect handler to refuse a namespace connection.

    The client receives a CONNECT_ERROR packet ``{"message": message, "data": data}``.
    """

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class AckTimeout(SioxError, TimeoutError):
    """An acknowledgement did not arrive within its timeout."""


class NotConnected(SioxError):
    """The operation needs a connection that is gone (or was never made)."""


class CapExceeded(SioxError):
    """A cap of `siox.options.Caps` refused the operation (too many rooms, pending acks...)."""
