"""Parser selection: one object with ``encode(packet)`` and ``new_decoder()`` per parser kind.

Servers and clients take ``parser=`` as one of (`ParserSpec`):

* ``"default"`` (the JSON parser) or ``"msgpack"``;
* a parser of the documented shape (`ParserModule`): an object with ``encode(packet)``
  returning the Engine.IO messages and a ``Decoder`` class whose instances ``feed(message)``
  and return the packets completed, like the modules `siox.parser` and `siox.parser.msgpack`
  themselves (which are taken as ``"default"`` and ``"msgpack"``);
* an object that already has this module's internal shape (`ParserLike`), used as it is.

`resolve_parser` turns the option into a `ParserLike` with the configured `Limits` applied:
the size, depth and attachment limits go to every decoder whose constructor accepts them
(``max_size``, ``max_depth``, ``max_attachments``). It checks the object's shape, so a wrong
object is a `TypeError` when the server or client is built, not an error per connection. The
default parser follows the session's Socket.IO protocol revision (5, or 4 for socket.io 2.x).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

from ..jsonbackend import JsonBackend
from ..options import DEFAULT_LIMITS, Limits
from ..parser import Decoder, Packet, Parser

__all__ = [
    "DecoderLike",
    "DefaultParser",
    "MsgpackParser",
    "ObjectParser",
    "ParserLike",
    "ParserModule",
    "ParserSpec",
    "check_parser",
    "resolve_parser",
]


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


class ParserModule(Protocol):
    """The documented parser shape: ``encode(packet)`` and a ``Decoder`` class."""

    def encode(self, packet: Packet, /) -> Sequence[str | bytes]:
        """Engine.IO messages (text and/or binary) carrying ``packet``."""
        ...

    @property
    def Decoder(self) -> Callable[..., DecoderLike]:
        """The decoder class; limits are passed to it as keywords when it accepts them."""
        ...


#: What ``parser=`` accepts.
ParserSpec = str | ParserLike | ParserModule


class DefaultParser:
    """The default (JSON + attachments) parser for one protocol revision."""

    name = "default"

    def __init__(
        self,
        *,
        protocol: int = 5,
        json: str | JsonBackend | None = None,
        max_attachments: int = DEFAULT_LIMITS.max_attachments,
        max_depth: int | None = None,
    ) -> None:
        self.parser = Parser(
            protocol=protocol, json=json, max_attachments=max_attachments, max_depth=max_depth
        )
        self.encode = self.parser.encode  # type: ignore[method-assign]
        # Bound once, shared by every connection's per-message paths (`SocketConnection`).
        #: the parser's ``parse_text``
        self.parse_text = self.parser.parse_text
        #: the parser's ``encode_fields``
        self.encode_fields = self.parser.encode_fields

    def encode(self, packet: Packet) -> list[str | bytes]:
        """Encode ``packet`` (replaced by the bound method of the configured parser)."""
        return self.parser.encode(packet)

    def new_decoder(self) -> Decoder:
        """A fresh incremental decoder sharing this configuration."""
        return Decoder(parser=self.parser)


class MsgpackParser:
    """The msgpack parser (npm socket.io-msgpack-parser compatible); needs ``siox[msgpack]``.

    Args:
        max_depth: nesting limit of a packet's data (1 to 200).
        max_size: the largest message accepted, bytes.

    Raises:
        ValueError: a limit out of range.
    """

    name = "msgpack"

    def __init__(
        self,
        *,
        max_depth: int = DEFAULT_LIMITS.max_depth,
        max_size: int = DEFAULT_LIMITS.max_http_buffer_size,
    ) -> None:
        from ..parser import msgpack as module  # optional dependency, imported on demand

        self._module = module
        self._max_depth = max_depth
        self._max_size = max_size
        self.new_decoder()  # the decoder checks the limits: fail now, not per connection

    def encode(self, packet: Packet) -> list[str | bytes]:
        """Encode ``packet`` as one binary message."""
        return list(self._module.encode(packet))

    def new_decoder(self) -> DecoderLike:
        """A fresh msgpack decoder with this parser's limits."""
        decoder: DecoderLike = self._module.Decoder(
            max_depth=self._max_depth, max_size=self._max_size
        )
        return decoder


def _accepted_keywords(factory: Callable[..., Any], offered: dict[str, Any]) -> dict[str, Any]:
    """The items of ``offered`` that ``factory`` takes as keyword arguments."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # no signature to read (some builtins)
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return dict(offered)
    names = {
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }
    return {name: value for name, value in offered.items() if name in names}


class ObjectParser:
    """A parser object of the documented shape (`ParserModule`), with the limits applied.

    Args:
        spec: the object (a module such as `siox.parser.msgpack`, or any object with
            ``encode`` and ``Decoder``).
        limits: passed to ``spec.Decoder`` as ``max_size`` (``max_http_buffer_size``),
            ``max_depth`` and ``max_attachments``, each when the constructor accepts it.

    Raises:
        TypeError: ``spec`` lacks a callable ``encode`` or ``Decoder``, or its decoders have
            no ``feed`` method.
    """

    def __init__(self, spec: ParserModule, *, limits: Limits = DEFAULT_LIMITS) -> None:
        problem = _shape_problem(spec)
        if problem is not None:
            raise TypeError(problem)
        self.spec = spec
        self.name = str(getattr(spec, "__name__", type(spec).__name__))
        self._encode = spec.encode
        self._decoder_class = spec.Decoder
        self._decoder_options = _accepted_keywords(
            spec.Decoder,
            {
                "max_size": limits.max_http_buffer_size,
                "max_depth": limits.max_depth,
                "max_attachments": limits.max_attachments,
            },
        )
        decoder = self.new_decoder()
        if not callable(getattr(decoder, "feed", None)):
            raise TypeError(
                f"parser {self.name!r}: its Decoder objects have no feed(message) method"
            )

    def encode(self, packet: Packet) -> list[str | bytes]:
        """The Engine.IO messages ``spec.encode`` gives for ``packet``."""
        return list(self._encode(packet))

    def new_decoder(self) -> DecoderLike:
        """A fresh ``spec.Decoder`` with the limits it accepts."""
        return self._decoder_class(**self._decoder_options)


def _shape_problem(spec: object) -> str | None:
    """Why ``spec`` is not a parser object, or None when it has the documented shape."""
    if not callable(getattr(spec, "encode", None)):
        return f"parser {spec!r} has no encode(packet) function"
    if not callable(getattr(spec, "Decoder", None)):
        return f"parser {spec!r} has no Decoder class"
    return None


def _is_internal(spec: object) -> bool:
    return callable(getattr(spec, "encode", None)) and callable(getattr(spec, "new_decoder", None))


def check_parser(spec: object) -> str | ParserLike | ParserModule:
    """Check a ``parser=`` option; the modules `siox.parser`/`siox.parser.msgpack` become names.

    Returns:
        ``"default"`` or ``"msgpack"``, or ``spec`` itself when it is a parser object.

    Raises:
        ValueError: an unknown parser name.
        TypeError: neither a name nor an object of a parser's shape.
    """
    if isinstance(spec, str):
        if spec not in ("default", "msgpack"):
            raise ValueError(
                f"unknown parser {spec!r} (use 'default', 'msgpack' or a parser object)"
            )
        return spec
    if spec is sys.modules.get("siox.parser"):
        return "default"
    if spec is sys.modules.get("siox.parser.msgpack"):
        return "msgpack"
    if _is_internal(spec):
        return cast(ParserLike, spec)
    problem = _shape_problem(spec)
    if problem is not None:
        raise TypeError(
            f"{problem}: parser= takes 'default', 'msgpack' or an object with "
            "encode(packet) and a Decoder class (such as the module siox.parser.msgpack)"
        )
    return cast(ParserModule, spec)


def resolve_parser(
    spec: object, *, protocol: int = 5, limits: Limits = DEFAULT_LIMITS
) -> ParserLike:
    """Turn ``parser=`` into a parser object with ``limits`` applied to its decoders.

    Raises:
        ValueError: an unknown name, or msgpack asked for a protocol-4 session.
        TypeError: an object without a parser's shape.
    """
    checked = check_parser(spec)
    if checked == "default":
        return DefaultParser(
            protocol=protocol, max_attachments=limits.max_attachments, max_depth=limits.max_depth
        )
    if checked == "msgpack":
        if protocol != 5:
            raise ValueError("the msgpack parser speaks Socket.IO protocol 5 only")
        return MsgpackParser(max_depth=limits.max_depth, max_size=limits.max_http_buffer_size)
    if _is_internal(checked):
        return cast(ParserLike, checked)
    return ObjectParser(cast(ParserModule, checked), limits=limits)
