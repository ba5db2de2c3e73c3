"""Parser selection: one object with ``encode(packet)`` and ``new_decoder()`` per parser kind.

Servers and clients take ``parser="default"`` (the JSON parser), ``parser="msgpack"``, or any
object with this shape (`ParserLike`). The default parser follows the session's Socket.IO
protocol revision (5, or 4 for socket.io 2.x peers).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..jsonbackend import JsonBackend
from ..parser import Decoder, Packet, Parser

__all__ = ["DecoderLike", "DefaultParser", "MsgpackParser", "ParserLike", "resolve_parser"]


class DecoderLike(Protocol):
    """A per-connection decoder: one Engine.IO message in, completed packets out."""

    def feed(self, chunk: str | bytes) -> list[Packet]:
        """Take one message; raise `siox.errors.ProtocolError` on malformed input."""
        ...


class ParserLike(Protocol):
    """What a connection needs from a parser."""

    name: str

    def encode(self, packet: Packet) -> list[str | bytes]:
        """Engine.IO messages (text and/or binary) carrying ``packet``."""
        ...

    def new_decoder(self) -> DecoderLike:
        """A fresh decoder for one connection."""
        ...


class DefaultParser:
    """The default (JSON + attachments) parser for one protocol revision."""

    name = "default"

    def __init__(
        self,
        *,
        protocol: int = 5,
        json: str | JsonBackend | None = None,
        max_attachments: int = 10,
        max_depth: int | None = None,
    ) -> None:
        self.parser = Parser(
            protocol=protocol, json=json, max_attachments=max_attachments, max_depth=max_depth
        )
        self.encode = self.parser.encode  # type: ignore[method-assign]

    def encode(self, packet: Packet) -> list[str | bytes]:
        """Encode ``packet`` (replaced by the bound method of the configured parser)."""
        return self.parser.encode(packet)

    def new_decoder(self) -> Decoder:
        """A fresh incremental decoder sharing this configuration."""
        return Decoder(parser=self.parser)


class MsgpackParser:
    """The msgpack parser (npm socket.io-msgpack-parser compatible); needs ``siox[msgpack]``."""

    name = "msgpack"

    def __init__(self, **options: Any) -> None:
        from ..parser import msgpack as module  # optional dependency, imported on demand

        self._module = module
        self._options = options

    def encode(self, packet: Packet) -> list[str | bytes]:
        """Encode ``packet`` as one binary message."""
        return list(self._module.encode(packet))

    def new_decoder(self) -> DecoderLike:
        """A fresh msgpack decoder."""
        decoder: DecoderLike = self._module.Decoder(**self._options)
        return decoder


def resolve_parser(
    spec: str | ParserLike, *, protocol: int = 5, max_attachments: int = 10
) -> ParserLike:
    """Turn ``parser=`` into a parser object.

    Raises:
        ValueError: an unknown name, or msgpack asked for a protocol-4 session.
    """
    if not isinstance(spec, str):
        return spec
    if spec == "default":
        return DefaultParser(protocol=protocol, max_attachments=max_attachments)
    if spec == "msgpack":
        if protocol != 5:
            raise ValueError("the msgpack parser speaks Socket.IO protocol 5 only")
        return MsgpackParser()
    raise ValueError(f"unknown parser {spec!r} (use 'default', 'msgpack' or a parser object)")
