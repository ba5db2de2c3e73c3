"""Server-side HTTP long-polling bookkeeping: the one pending GET and the one POST in progress.

`PollingChannel` enforces the per-request rules of protocol.md 3.5 and leaves the consequences
to `siox.engineio.session.EngineSession`: every method that refuses raises a
`siox.errors.ProtocolError` *before* changing anything, and the session closes itself and lets
the error through (its ``http_status`` is the answer to the request). The POST body is counted
as it arrives, so ``max_payload`` holds for bytes actually received.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import PayloadTooLarge, ProtocolError
from .machine import is_binary_content
from .outputs import BINARY_CONTENT_TYPE, TEXT_CONTENT_TYPE, PollingResponse
from .packet import EnginePacket
from .payload import decode_payload, encode_payload

__all__ = ["POST_RESPONSE", "PollingChannel"]

#: The answer to every accepted POST (lowercase ``ok``; text/html as the reference, GH-43).
POST_RESPONSE = PollingResponse("ok", "text/html")


class PollingChannel:
    """The polling requests of one server session.

    Args:
        eio: the Engine.IO revision.
        b64: v3: binary as base64 text instead of the binary payload format.
        max_payload: the largest POST body accepted, bytes.
    """

    __slots__ = ("_post", "_post_binary", "b64", "eio", "get_pending", "max_payload")

    def __init__(self, eio: int, b64: bool, max_payload: int) -> None:
        self.eio = eio
        self.b64 = b64
        self.max_payload = max_payload
        #: Whether a GET is being held open, waiting for packets.
        self.get_pending = False
        self._post: bytearray | None = None
        self._post_binary = False

    @property
    def post_in_progress(self) -> bool:
        """Whether a POST body is being received."""
        return self._post is not None

    def hold_get(self) -> None:
        """Hold a new GET open.

        Raises:
            ProtocolError: a GET is already pending (400).
        """
        if self.get_pending:
            raise ProtocolError("overlapping polling GET")
        self.get_pending = True

    def respond(self, packets: Sequence[EnginePacket]) -> PollingResponse:
        """The answer that releases the pending GET with ``packets`` (at least one)."""
        self.get_pending = False
        body = encode_payload(packets, eio=self.eio, b64=self.b64)
        # Compressed unless every packet asked not to be (engine.io's polling transport).
        compress = any(packet.compress for packet in packets)
        if isinstance(body, str):
            return PollingResponse(body, TEXT_CONTENT_TYPE, compress)
        return PollingResponse(body, BINARY_CONTENT_TYPE, compress)

    def begin_post(self, content_type: str | None) -> None:
        """Start receiving a POST body.

        Raises:
            ProtocolError: a POST is already in progress, or a v4 POST is binary (400).
        """
        if self._post is not None:
            raise ProtocolError("overlapping polling POST")
        binary = is_binary_content(content_type)
        if binary and self.eio == 4:
            # The reference calls this "invalid content": v4 payloads are always text.
            raise ProtocolError("invalid content: a v4 POST cannot be application/octet-stream")
        self._post = bytearray()
        self._post_binary = binary

    def feed_post(self, chunk: bytes | bytearray | memoryview) -> None:
        """Append bytes of the POST body.

        Raises:
            PayloadTooLarge: the body crossed ``max_payload`` (413).
            RuntimeError: no POST is in progress (driver bug).
        """
        post = self._require_post()
        size = chunk.nbytes if isinstance(chunk, memoryview) else len(chunk)
        if len(post) + size > self.max_payload:
            raise PayloadTooLarge(f"POST body exceeds max_payload={self.max_payload} bytes")
        post += chunk

    def end_post(self) -> list[EnginePacket]:
        """Finish the POST and decode its body.

        Raises:
            InvalidPacket: the body is not a valid payload (400).
            PayloadTooLarge: the payload is too large (413).
            RuntimeError: no POST is in progress (driver bug).
        """
        body = bytes(self._require_post())
        self._post = None
        return decode_payload(
            body, eio=self.eio, binary=self._post_binary, max_payload=self.max_payload
        )

    def reset(self) -> None:
        """Forget the pending GET and any POST in progress (the session is over)."""
        self.get_pending = False
        self._post = None

    def _require_post(self) -> bytearray:
        if self._post is None:
            raise RuntimeError("no polling POST is in progress (call begin_polling_post first)")
        return self._post
