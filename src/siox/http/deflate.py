"""Negotiate and run the permessage-deflate WebSocket extension (RFC 7692).

Negotiation never raises on a malformed *offer*: a server declines an offer it cannot read or
accept (unknown or repeated parameters, ``client_max_window_bits=999``) and tries the next one.
A client is stricter with the server's *response*, which must only accept what was offered;
anything else is a `HandshakeError`.

Decompression is bounded: `MessageDecompressor` never inflates more than the caller's limit plus
one byte, so a small "zip bomb" frame costs at most that much memory.

Window sizes: zlib cannot compress raw deflate with an 8-bit window (it silently uses 9), so this
side never promises to compress with fewer than 9 bits.  An offer that asks the server for 8 is
declined; a response asking this client for 8 fails the handshake.  Inflating always uses a
32 KiB window, which reads any window size a peer chooses.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import HandshakeError, InvalidPacket, PayloadTooLarge

__all__ = [
    "EXTENSION_NAME",
    "DeflateOptions",
    "DeflateParams",
    "MessageCompressor",
    "MessageDecompressor",
    "accept_offer",
    "accept_response",
    "build_offer",
    "parse_extension_header",
]

EXTENSION_NAME = "permessage-deflate"

_TAIL = b"\x00\x00\xff\xff"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 section 5.6.2
_WINDOW_VALUES = {str(bits): bits for bits in range(8, 16)}  # exact spellings only: no "09"
_FLAGS = ("server_no_context_takeover", "client_no_context_takeover")
_WINDOWS = ("server_max_window_bits", "client_max_window_bits")

Params = list[tuple[str, str | None]]


@dataclass(frozen=True, slots=True)
class DeflateOptions:
    """This side's permessage-deflate preferences and compression settings.

    Attributes:
        server_no_context_takeover: Ask (client) or require (server) that the server reset its
            compression context after each message; saves memory on the server.
        client_no_context_takeover: The same for the client's compressor.
        server_max_window_bits: Largest server window (9-15), or None for the default 15.
        client_max_window_bits: Largest client window (9-15), or None for the default 15.
        level: zlib compression level (0-9; default 6).
        mem_level: zlib memory level (1-9; default 8).
        threshold: Messages shorter than this many bytes are sent uncompressed (default 1024,
            as npm ``ws``).
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None
    level: int = 6
    mem_level: int = 8
    threshold: int = 1024

    def __post_init__(self) -> None:
        for name in _WINDOWS:
            bits = getattr(self, name)
            if bits is not None and not 9 <= bits <= 15:
                raise ValueError(f"{name} must be between 9 and 15, not {bits}")
        if not 0 <= self.level <= 9 or not 1 <= self.mem_level <= 9 or self.threshold < 0:
            raise ValueError("invalid compression settings")


@dataclass(frozen=True, slots=True)
class DeflateParams:
    """The agreed permessage-deflate parameters, plus this side's compression settings.

    Window bits here are what each side compresses with at most (15 when not limited).

    Attributes:
        server_no_context_takeover: The server resets its compressor after each message.
        client_no_context_takeover: The client resets its compressor after each message.
        server_max_window_bits: The server's window.
        client_max_window_bits: The client's window.
        level: zlib compression level for messages this side sends.
        mem_level: zlib memory level for this side's compressor.
        threshold: Minimum size of a message this side compresses.
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15
    level: int = 6
    mem_level: int = 8
    threshold: int = 1024


def parse_extension_header(values: Iterable[str]) -> list[tuple[str, Params]] | None:
    """Split ``Sec-WebSocket-Extensions`` values into extensions and their parameters.

    Linear in the input size.  Quoted values lose their quotes.

    Args:
        values: Every value of the header (repeated headers are one comma-separated list).

    Returns:
        ``[(name, [(param, value or None), ...]), ...]`` with lowercased names, or None when
        the text is not a valid extension list.
    """
    result: list[tuple[str, Params]] = []
    for value in values:
        for element in value.split(","):
            parts = [part.strip(" \t") for part in element.split(";")]
            if parts == [""]:
                continue  # empty list elements are allowed (RFC 9110 section 5.6.1)
            name = parts[0].lower()
            if not _is_token(name):
                return None
            params: Params = []
            for part in parts[1:]:
                key, eq, raw = part.partition("=")
                key = key.strip(" \t").lower()
                raw = raw.strip(" \t")
                if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                    raw = raw[1:-1]
                if not _is_token(key) or (eq and not _is_token(raw)):
                    return None
                params.append((key, raw if eq else None))
            result.append((name, params))
    return result


def _is_token(text: str) -> bool:
    return _TOKEN.fullmatch(text) is not None


def _read_params(params: Params, *, allow_bare_client_bits: bool) -> dict[str, int | None] | None:
    """Check a parameter list; None if any parameter is unknown, repeated or malformed."""
    seen: dict[str, int | None] = {}
    for key, value in params:
        if key in seen:
            return None
        if key in _FLAGS:
            if value is not None:
                return None
            seen[key] = None
        elif key in _WINDOWS:
            if value is None:
                if key == "server_max_window_bits" or not allow_bare_client_bits:
                    return None
                seen[key] = None
            elif value in _WINDOW_VALUES:
                seen[key] = _WINDOW_VALUES[value]
            else:
                return None
        else:
            return None
    return seen


def accept_offer(
    values: Iterable[str], options: DeflateOptions
) -> tuple[DeflateParams, str] | None:
    """Server side: accept the first acceptable permessage-deflate offer of a client.

    Args:
        values: Every ``Sec-WebSocket-Extensions`` value of the upgrade request.
        options: This server's preferences.

    Returns:
        ``(params, response_value)`` where ``response_value`` goes into the 101 response's
        ``Sec-WebSocket-Extensions``, or None when no offer can be accepted (the connection
        then runs without compression).
    """
    extensions = parse_extension_header(values)
    for name, params in extensions or ():
        if name != EXTENSION_NAME:
            continue
        offer = _read_params(params, allow_bare_client_bits=True)
        if offer is None or offer.get("server_max_window_bits") == 8:
            continue  # unreadable, or a window this side cannot compress with: decline it
        response = [EXTENSION_NAME]
        server_nct = "server_no_context_takeover" in offer or options.server_no_context_takeover
        client_nct = "client_no_context_takeover" in offer or options.client_no_context_takeover
        if server_nct:
            response.append("server_no_context_takeover")
        if client_nct:
            response.append("client_no_context_takeover")
        server_bits = min(
            offer.get("server_max_window_bits") or 15, options.server_max_window_bits or 15
        )
        if "server_max_window_bits" in offer or server_bits < 15:
            response.append(f"server_max_window_bits={server_bits}")
        client_bits = offer.get("client_max_window_bits") or 15
        if "client_max_window_bits" in offer and options.client_max_window_bits is not None:
            client_bits = min(client_bits, options.client_max_window_bits)
            response.append(f"client_max_window_bits={client_bits}")
        agreed = DeflateParams(
            server_no_context_takeover=server_nct,
            client_no_context_takeover=client_nct,
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits,
            level=options.level,
            mem_level=options.mem_level,
            threshold=options.threshold,
        )
        return agreed, "; ".join(response)
    return None


def build_offer(options: DeflateOptions) -> str:
    """Client side: the ``Sec-WebSocket-Extensions`` value offering permessage-deflate.

    Args:
        options: This client's preferences.

    Returns:
        The header value.
    """
    offer = [EXTENSION_NAME]
    if options.server_no_context_takeover:
        offer.append("server_no_context_takeover")
    if options.client_no_context_takeover:
        offer.append("client_no_context_takeover")
    if options.server_max_window_bits is not None:
        offer.append(f"server_max_window_bits={options.server_max_window_bits}")
    if options.client_max_window_bits is None:
        offer.append("client_max_window_bits")  # "the server may limit my window"
    else:
        offer.append(f"client_max_window_bits={options.client_max_window_bits}")
    return "; ".join(offer)


def accept_response(values: Iterable[str], options: DeflateOptions | None) -> DeflateParams | None:
    """Client side: check the server's answer to the offer `build_offer` made.

    Args:
        values: Every ``Sec-WebSocket-Extensions`` value of the 101 response.
        options: What this client offered, or None if it offered nothing.

    Returns:
        The agreed parameters, or None when the server declined compression.

    Raises:
        HandshakeError: The response names an extension that was not offered, more than one,
            or parameters the offer does not allow.
    """
    extensions = parse_extension_header(values)
    if extensions is None:
        raise HandshakeError("malformed Sec-WebSocket-Extensions in the response")
    if not extensions:
        return None
    if options is None or len(extensions) != 1 or extensions[0][0] != EXTENSION_NAME:
        raise HandshakeError("the server accepted an extension that was not offered")
    agreed = _read_params(extensions[0][1], allow_bare_client_bits=False)
    if agreed is None:
        raise HandshakeError("invalid permessage-deflate parameters in the response")
    server_bits = agreed.get("server_max_window_bits") or 15
    client_bits = agreed.get("client_max_window_bits") or options.client_max_window_bits or 15
    if (
        (options.server_no_context_takeover and "server_no_context_takeover" not in agreed)
        or server_bits > (options.server_max_window_bits or 15)
        or client_bits > (options.client_max_window_bits or 15)
        or client_bits < 9
    ):
        raise HandshakeError("permessage-deflate response does not match the offer")
    return DeflateParams(
        server_no_context_takeover="server_no_context_takeover" in agreed,
        client_no_context_takeover="client_no_context_takeover" in agreed
        or options.client_no_context_takeover,
        server_max_window_bits=server_bits,
        client_max_window_bits=client_bits,
        level=options.level,
        mem_level=options.mem_level,
        threshold=options.threshold,
    )


class MessageCompressor:
    """Compresses whole messages for one direction of one connection.

    Args:
        window_bits: This side's agreed window (9-15).
        no_context_takeover: Reset the history after each message.
        level: zlib compression level.
        mem_level: zlib memory level.
    """

    def __init__(self, window_bits: int, *, no_context_takeover: bool, level: int, mem_level: int):
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, -max(window_bits, 9), mem_level)
        # A full flush forgets the history, which is what no_context_takeover asks for, without
        # paying for a new compressor per message.
        self._flush_mode = zlib.Z_FULL_FLUSH if no_context_takeover else zlib.Z_SYNC_FLUSH

    def compress(self, data: bytes | bytearray | memoryview) -> bytes:
        """Compress one message.

        Args:
            data: The message payload.

        Returns:
            The compressed payload, without the trailing ``00 00 ff ff`` (RFC 7692 section 7.2.1).
        """
        out = self._compressor.compress(data) + self._compressor.flush(self._flush_mode)
        return out[:-4] if out.endswith(_TAIL) else out


class MessageDecompressor:
    """Inflates the frames of compressed messages for one direction of one connection.

    Args:
        no_context_takeover: The peer resets its history after each message, so this side may
            too (frees the window between messages).
    """

    def __init__(self, *, no_context_takeover: bool):
        self._no_context_takeover = no_context_takeover
        self._inflater = zlib.decompressobj(-15)

    def feed(self, data: bytes, limit: int, *, final: bool) -> bytes:
        """Inflate the next piece of a compressed message.

        Args:
            data: The payload of the next frame of the message.
            limit: How many more bytes the message may inflate to.
            final: This is the message's last frame.

        Returns:
            The inflated bytes (at most ``limit``).

        Raises:
            PayloadTooLarge: The data inflates to more than ``limit`` bytes (close 1009).
            InvalidPacket: The data is not valid deflate (close 1007).
        """
        if final:
            data += _TAIL
        out = b""
        try:
            while data:
                out += self._inflater.decompress(data, limit - len(out) + 1)
                if len(out) > limit:
                    raise PayloadTooLarge("message too big once inflated", ws_close_code=1009)
                if not self._inflater.eof:
                    break
                # The peer ended its deflate stream (BFINAL): what follows, if anything but the
                # tail added above, starts a fresh stream, and so does the next message.
                data = self._inflater.unused_data
                self._inflater = zlib.decompressobj(-15)
                if final and data == _TAIL:
                    break
        except zlib.error as exc:
            raise InvalidPacket(f"invalid compressed data: {exc}", ws_close_code=1007) from exc
        if final and self._no_context_takeover:
            self._inflater = zlib.decompressobj(-15)
        return out
