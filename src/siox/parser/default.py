"""The default Socket.IO parser: packets as JSON text plus binary attachments.

Grammar (protocol.md section 1.2)::

    packet = type [ attachments "-" ] [ nsp "," ] [ ack-id ] [ json ]

``protocol=5`` follows socket.io-parser 4.2.x (socket.io 3.x/4.x); ``protocol=4`` follows
socket.io-parser 3.x (socket.io 1.x/2.x: type 4 is ERROR, binary packets keep types 5/6 on decode,
namespaces are kept exactly as written, query string included).

Validation is the reference decoder's, plus the stricter rules api.md lists:

* the type is one ASCII digit ``0``-``6`` (the reference reads ``""`` and whitespace as type 0
  through ``Number()``; siox refuses them);
* the attachment count is ASCII digits, ``1 <= n <= max_attachments``;
* the ack id is ASCII digits (the reference's loose ``Number(c) == c`` also takes spaces), at
  most ``2**53 - 1``, and only on EVENT/ACK packets (the reference reads ``0/nsp,123`` as a
  CONNECT with id 123; hostile-inputs P19 wants it refused);
* a placeholder ``num`` is an ``int`` (not ``bool``, not ``float``) indexing the attachments;
* JSON nesting depth and number range are limited by the JSON backend (`siox.jsonbackend`).

The fast paths of `Parser.encode_fields` and `Parser.parse_text` have compiled versions (a
`siox.parser._speedups.Codec`, for an exact `OrjsonBackend`, when the optional speedups are
built): they answer the same usual packets and hand everything else, errors included, back to
the general path. `Parser.encode` and `Decoder.feed` call them directly (one Python call fewer).

(Over the 400-line soft cap: the fast paths of `Parser.encode_fields` and `Parser.parse_text`
sit inside the methods whose general paths they shortcut, and `Decoder` shares that parse.)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import fastpaths
from ..errors import InvalidPacket
from ..jsonbackend import JsonBackend, OrjsonBackend, _default, get_backend
from ..options import DEFAULT_LIMITS
from .binary import BINARY_TYPES, pure_reconstruct, reconstruct
from .packet import COMPILED, RESERVED_EVENTS, Packet, PacketType, make_packet

if TYPE_CHECKING:
    from ._speedups import Codec

__all__ = ["DEFAULT_MAX_ATTACHMENTS", "MAX_ACK_ID", "Decoder", "Parser"]

DEFAULT_MAX_ATTACHMENTS = DEFAULT_LIMITS.max_attachments
#: Largest ack id accepted or produced: JavaScript's Number.MAX_SAFE_INTEGER.
MAX_ACK_ID = 2**53 - 1

_DIGITS = re.compile(r"[0-9]+")
_JSON_SPACE = frozenset(" \t\n\r")
# Enum attribute access and enum hashing are slow on CPython 3.11; the hot paths below use
# these module constants, identity tests and tuples indexed by the type number instead.
_CONNECT, _DISCONNECT, _EVENT, _ACK, _CONNECT_ERROR, _BINARY_EVENT, _BINARY_ACK = PacketType
_TYPES = tuple(PacketType)
_TYPE_OF_CHAR = {str(t.value): t for t in PacketType}
_PREFIX = tuple(str(t.value) for t in PacketType)
#: type -> the type to send when the data holds binary (None: binary not allowed)
_BINARY_OF = (None, None, _BINARY_EVENT, _BINARY_ACK, None, _BINARY_EVENT, _BINARY_ACK)
#: type -> the same type without binary
_PLAIN_OF = (_CONNECT, _DISCONNECT, _EVENT, _ACK, _CONNECT_ERROR, _EVENT, _ACK)


if COMPILED is not None:
    COMPILED.configure_parser(
        _TYPES, RESERVED_EVENTS, _default, BINARY_TYPES, pure_reconstruct, InvalidPacket
    )


def _codec_for(backend: JsonBackend) -> Codec | None:
    """The compiled fast paths for ``backend`` (exactly an `OrjsonBackend`), or None.

    The backend's orjson functions and ``max_depth`` are read here, once per `Parser`.
    """
    if COMPILED is None or type(backend) is not OrjsonBackend:
        return None
    codec: Codec = COMPILED.Codec(
        backend._orjson_dumps, backend._orjson_loads, backend._option, backend.max_depth
    )
    return codec


def _packet_type(value: Any) -> PacketType:
    if type(value) is PacketType:
        return value
    if type(value) is int and 0 <= value < len(_TYPES):
        return _TYPES[value]
    raise ValueError(f"unknown packet type {value!r}")


def _is_event_name(name: Any, protocol: int) -> bool:
    kind = type(name)
    if kind is str:
        return protocol < 5 or name not in RESERVED_EVENTS
    return kind is int or kind is float


def _payload_valid(ptype: PacketType, data: Any, protocol: int) -> bool:
    """The reference's per-type payload rule (socket.io-parser 4.2.x, or 3.x for protocol 4)."""
    if ptype is _EVENT or ptype is _BINARY_EVENT:
        return type(data) is list and len(data) > 0 and _is_event_name(data[0], protocol)
    if ptype is _ACK or ptype is _BINARY_ACK:
        return type(data) is list
    if ptype is _CONNECT:
        return isinstance(data, dict) or (protocol < 5 and (data is None or type(data) is list))
    if ptype is _CONNECT_ERROR:
        return isinstance(data, (str, dict)) or (
            protocol < 5 and (data is None or type(data) is list)
        )
    return False  # DISCONNECT carries no payload


class Parser:
    """Encoder and one-shot decoder for the default parser, with its configuration.

    Args:
        protocol: Socket.IO protocol revision, 5 (default) or 4.
        json: JSON backend: ``None``/``"auto"``, ``"orjson"``, ``"stdlib"`` or a backend object.
        max_attachments: largest attachment count accepted in a binary packet header.
        max_depth: JSON nesting limit (default: the backend's default, 32).
    """

    __slots__ = ("_codec", "_json", "max_attachments", "protocol")

    def __init__(
        self,
        *,
        protocol: int = 5,
        json: str | JsonBackend | None = None,
        max_attachments: int = DEFAULT_MAX_ATTACHMENTS,
        max_depth: int | None = None,
    ) -> None:
        if protocol not in (4, 5):
            raise ValueError(f"unsupported Socket.IO protocol revision {protocol!r} (use 4 or 5)")
        if max_attachments < 1:
            raise ValueError("max_attachments must be >= 1")
        self.protocol = protocol
        self.max_attachments = max_attachments
        self._json = get_backend(json, max_depth=max_depth)
        cls = type(self)
        # `encode` and `Decoder.feed` call the compiled branches directly: not past an override.
        plain = cls is Parser or (
            cls.encode_fields is Parser.encode_fields and cls.parse_text is Parser.parse_text
        )
        self._codec = _codec_for(self._json) if plain else None

    @property
    def json(self) -> JsonBackend:
        """The JSON backend in use."""
        return self._json

    def encode(self, packet: Packet) -> list[str | bytes]:
        """Encode a packet: the text header first, then the binary attachments.

        EVENT/ACK become BINARY_EVENT/BINARY_ACK when ``data`` holds binary (and the reverse
        when it holds none, so no binary type ever has 0 attachments).

        Raises:
            TypeError: ``data`` holds values that are not JSON data or binary.
            ValueError: the packet cannot be valid on the wire (bad namespace, ack id, payload).
        """
        if fastpaths.ENABLED and (codec := self._codec) is not None:
            # The compiled fast branch of `encode_fields`, without that call (`siox.fastpaths`).
            frames = codec.encode(packet.type, packet.nsp, packet.data, packet.id, self.protocol)
            if frames is not None:
                return frames
        return self.encode_fields(packet.type, packet.nsp, packet.data, packet.id)

    def encode_fields(
        self, ptype: PacketType, nsp: str, data: Any, ack_id: int | None
    ) -> list[str | bytes]:
        """`encode` for a packet given by its fields (no `Packet` object needed)."""
        codec = self._codec if fastpaths.ENABLED else None
        if codec is not None:
            # Fast path (`siox.fastpaths`), compiled: the branch below in C, or None for
            # anything it does not answer (errors included), which the general path takes.
            encoded = codec.encode(ptype, nsp, data, ack_id, self.protocol)
            if encoded is not None:
                return encoded
        elif (
            fastpaths.ENABLED
            and (ptype is _EVENT or ptype is _ACK)
            and nsp == "/"
            and type(data) is list
        ):
            # Fast path (`siox.fastpaths`), the usual packet: main namespace, a list payload.
            # The same checks in the same order and the same text as below, with fewer calls.
            head = "2" if ptype is _EVENT else "3"
            if ack_id is not None:
                if type(ack_id) is not int or not 0 <= ack_id <= MAX_ACK_ID:
                    raise ValueError(f"invalid ack id {ack_id!r}")
                head += str(ack_id)
            if ptype is _EVENT:
                name = data[0] if data else None
                kind = type(name)
                if kind is str:
                    if name in RESERVED_EVENTS and self.protocol >= 5:
                        raise ValueError(f"invalid EVENT payload {data!r:.80}")
                elif kind is not int and kind is not float:
                    raise ValueError(f"invalid EVENT payload {data!r:.80}")
            body, attachments = self._json.dumps_with_binary(data)
            if not attachments:
                return [head + body]
            frames: list[str | bytes] = [
                f"{'5' if ptype is _EVENT else '6'}{len(attachments)}-{head[1:]}{body}"
            ]
            frames.extend(attachments)
            return frames
        if type(ptype) is not PacketType:
            ptype = _packet_type(ptype)
        if nsp != "/":
            if type(nsp) is not str or not nsp.startswith("/") or "," in nsp:
                raise ValueError(f"invalid namespace {nsp!r}")
            suffix = nsp + ","
        else:
            suffix = ""
        if ack_id is not None:
            if type(ack_id) is not int or not 0 <= ack_id <= MAX_ACK_ID:
                raise ValueError(f"invalid ack id {ack_id!r}")
            suffix += str(ack_id)
        binary_type = _BINARY_OF[ptype]
        if binary_type is not None:
            plain_type = _PLAIN_OF[ptype]
            if type(data) is tuple:
                data = list(data)
            if not _payload_valid(plain_type, data, self.protocol):
                raise ValueError(f"invalid {plain_type.name} payload {data!r:.80}")
            body, attachments = self._json.dumps_with_binary(data)
            if not attachments:
                return [_PREFIX[plain_type] + suffix + body]
            frames = [f"{_PREFIX[binary_type]}{len(attachments)}-{suffix}{body}"]
            frames.extend(attachments)
            return frames
        if data is None:
            if ptype is _CONNECT_ERROR and self.protocol >= 5:
                raise ValueError("CONNECT_ERROR needs a payload")
            return [_PREFIX[ptype] + suffix]
        if not _payload_valid(ptype, data, self.protocol):
            raise ValueError(f"invalid {ptype.name} payload {data!r:.80}")
        return [_PREFIX[ptype] + suffix + self._json.dumps(data)]

    def decode(self, text: str) -> Packet:
        """Decode one text packet that has no attachments.

        Raises:
            InvalidPacket: malformed text, or a binary header (use a `Decoder` for those).
        """
        ptype, nsp, data, ack_id, attachments = self.parse_text(text)
        if attachments:
            raise InvalidPacket(f"packet announces {attachments} attachments; use a Decoder")
        return make_packet(ptype, nsp, data, ack_id)

    def decode_header(self, text: str) -> tuple[Packet, int]:
        """Decode a text packet; returns the packet and its announced attachment count.

        For a binary header the packet still holds the placeholders.
        """
        ptype, nsp, data, ack_id, attachments = self.parse_text(text)
        return make_packet(ptype, nsp, data, ack_id), attachments

    def parse_text(self, text: str) -> tuple[PacketType, str, Any, int | None, int]:
        """Decode a text packet into ``(type, nsp, data, id, attachment count)``."""
        if type(text) is not str:
            raise InvalidPacket("a text packet must be a str")
        codec = self._codec if fastpaths.ENABLED else None
        if codec is not None:
            # Fast path (`siox.fastpaths`), compiled: the branch below in C, or None for
            # anything it does not answer (errors included), which the general path takes.
            fields = codec.parse(text, self.protocol, self.max_attachments, False)
            if fields is not None:
                return fields  # type: ignore[no-any-return]
        head = text[:1]
        if (
            codec is None
            and fastpaths.ENABLED
            and (head == "2" or head == "3" or head == "5" or head == "6")
        ):
            # Fast path (`siox.fastpaths`), the usual packet: an EVENT or ACK of the main
            # namespace (binary or not), with or without an ack id, the JSON array right
            # after. Anything else (and any payload the rule refuses) goes on to the general
            # path below, which gives the same answer and the errors.
            start = 1
            count = 0
            if head == "5" or head == "6":
                dash = text.find("-", 1, 11)
                if (
                    dash > 1
                    and (digits := text[1:dash]).isdigit()
                    and digits.isascii()
                    and 1 <= (count := int(digits)) <= self.max_attachments
                ):
                    start = dash + 1
                else:
                    start = 0
            bracket = text.find("[", start, start + 17) if start else -1
            ack_id = None
            if bracket == start:
                pass
            elif bracket > start and (digits := text[start:bracket]).isdigit() and digits.isascii():
                ack_id = int(digits)
            else:
                bracket = 0
            if bracket and (ack_id is None or ack_id <= MAX_ACK_ID):
                data = self._json.loads(text[bracket:])
                if type(data) is list:
                    if head == "3":
                        return _ACK, "/", data, ack_id, 0
                    if head == "6":
                        return _BINARY_ACK, "/", data, ack_id, count
                    if data:
                        name = data[0]
                        kind = type(name)
                        if (
                            (kind is str and (self.protocol < 5 or name not in RESERVED_EVENTS))
                            or kind is int
                            or kind is float
                        ):
                            return (
                                (_EVENT if head == "2" else _BINARY_EVENT),
                                "/",
                                data,
                                ack_id,
                                count,
                            )
        size = len(text)
        ptype = _TYPE_OF_CHAR.get(head)
        if ptype is None:
            raise InvalidPacket(f"unknown packet type {text[:1]!r}")
        index = 1
        attachments = 0
        if ptype is _BINARY_EVENT or ptype is _BINARY_ACK:
            match = _DIGITS.match(text, 1)
            if match is None or match.end() >= size or text[match.end()] != "-":
                raise InvalidPacket("illegal attachments")
            announced = match.group()
            if len(announced) > 9 or int(announced) > self.max_attachments:
                raise InvalidPacket("too many attachments")
            attachments = int(announced)
            if attachments < 1:
                raise InvalidPacket("illegal attachments")
            index = match.end() + 1
        nsp = "/"
        if index < size and text[index] == "/":
            comma = text.find(",", index)
            if comma < 0:
                nsp = text[index:]
                index = size
            else:
                nsp = text[index:comma]
                index = comma + 1
        ack_id = None
        if index < size and "0" <= text[index] <= "9":
            end = index + 1
            while end < size and "0" <= text[end] <= "9" and end - index <= 16:
                end += 1  # ids are short: a loop costs less than a regular expression here
            digits = text[index:end]
            if len(digits) > 16 or (ack_id := int(digits)) > MAX_ACK_ID:
                raise InvalidPacket("ack id out of range")
            if _BINARY_OF[ptype] is None:
                # The reference reads digits after any header as an id, so `40/nsp,123` is a
                # CONNECT with id 123 there; no encoder writes ids outside events and acks,
                # and hostile-inputs P19 wants that packet refused.
                raise InvalidPacket(f"{ptype.name} packets carry no ack id")
            index = end
        data = None
        if index < size:
            if text[index] in _JSON_SPACE:
                # The reference's loose digit test reads whitespace here as an ack id of 0
                # (`2 ["a"]` is an event with id 0 there); JSON would skip it. Refused, so that
                # no packet means different things to siox and to socket.io-parser.
                raise InvalidPacket("whitespace where an ack id or the payload should start")
            data = self._json.loads(text[index:])
            if not _payload_valid(ptype, data, self.protocol):
                raise InvalidPacket(f"invalid payload for {ptype.name}")
        return ptype, nsp, data, ack_id, attachments


class Decoder:
    """Incremental decoder, one per connection: feed it each Engine.IO message in order.

    Text messages are packet headers; a binary header (type 5/6) makes the decoder wait for
    its attachments, which arrive as binary messages. After an error the decoder is reset
    (the caller is expected to close the connection anyway).

    Args:
        protocol: Socket.IO protocol revision, 5 (default) or 4.
        max_attachments: largest attachment count accepted (default 10).
        json: JSON backend (see `siox.jsonbackend.get_backend`).
        max_depth: JSON nesting limit.
        parser: use this `Parser`'s configuration instead of the arguments above.
    """

    __slots__ = ("_attachments", "_codec", "_expected", "_header", "_parse", "_parser")

    def __init__(
        self,
        *,
        protocol: int = 5,
        max_attachments: int = DEFAULT_MAX_ATTACHMENTS,
        json: str | JsonBackend | None = None,
        max_depth: int | None = None,
        parser: Parser | None = None,
    ) -> None:
        self._parser = parser or Parser(
            protocol=protocol, json=json, max_attachments=max_attachments, max_depth=max_depth
        )
        self._parse = self._parser.parse_text
        self._codec: Codec | None = getattr(self._parser, "_codec", None)
        self._header: tuple[PacketType, str, Any, int | None, int] | None = None
        self._expected = 0
        self._attachments: list[bytes] | None = None  # created by the first attachment

    @property
    def reconstructing(self) -> bool:
        """Whether attachments of a binary packet are still expected."""
        return self._header is not None

    def reset(self) -> None:
        """Drop any partly received binary packet."""
        self._header = None
        self._expected = 0
        self._attachments = None

    def feed_parsed(self, header: tuple[PacketType, str, Any, int | None, int]) -> list[Packet]:
        """`feed` of a text message that this decoder's parser's `Parser.parse_text` read.

        For a caller that already parsed the text (a binary header is then not parsed twice).

        Raises:
            InvalidPacket: attachments of an earlier packet are still expected.
        """
        if self._header is not None:
            self.reset()
            raise InvalidPacket("got plaintext data when reconstructing a packet")
        if not header[4]:
            return [make_packet(header[0], header[1], header[2], header[3])]
        self._header = header
        self._expected = header[4]
        return []

    def feed(self, chunk: str | bytes | bytearray | memoryview) -> list[Packet]:
        """Take one Engine.IO message; return the packets it completes (zero or one).

        Raises:
            InvalidPacket: malformed input, text while attachments are expected, or binary
                when none are.
        """
        if type(chunk) is str:
            if self._header is not None:
                self.reset()
                raise InvalidPacket("got plaintext data when reconstructing a packet")
            if fastpaths.ENABLED and (codec := self._codec) is not None:
                # The compiled fast branch of `Parser.parse_text`, without that call: the
                # packet as a one-item list, a binary header as parse_text's tuple, or None.
                parser = self._parser
                found = codec.parse(chunk, parser.protocol, parser.max_attachments, True)
                if type(found) is list:
                    return found
                if found is not None:
                    self._header = found
                    self._expected = found[4]
                    return []
            header = self._parse(chunk)
            if not header[4]:
                return [make_packet(header[0], header[1], header[2], header[3])]
            return self.feed_parsed(header)
        if not isinstance(chunk, BINARY_TYPES):
            raise TypeError(f"feed() takes str or bytes, not {type(chunk).__name__}")
        pending = self._header
        if pending is None:
            raise InvalidPacket("got binary data when not reconstructing a packet")
        buffers = self._attachments
        if buffers is None:
            buffers = self._attachments = []
        buffers.append(chunk if type(chunk) is bytes else bytes(chunk))
        if len(buffers) < self._expected:
            return []
        ptype, nsp, data, ack_id, _ = pending
        self._header = None  # `reset`, inline
        self._expected = 0
        self._attachments = None
        data = reconstruct(data, buffers)
        if self._parser.protocol >= 5:
            ptype = _PLAIN_OF[ptype]
        return [make_packet(ptype, nsp, data, ack_id)]
