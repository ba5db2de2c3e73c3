"""Property tests for the default parser: round trips and total decoding."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, strategies as st

from siox.errors import ProtocolError
from siox.parser import Decoder, Packet, PacketType, Parser
from strategies import packets

# The round trip is the property here; `packets()` may hold more binary values than the default
# decoding limit (10), which tests/parser/test_hostile_parser_inputs.py covers on its own.
PARSERS = {
    "orjson": Parser(json="orjson", max_attachments=1000),
    "stdlib": Parser(json="stdlib", max_attachments=1000),
}


def normalize(value: Any) -> Any:
    """Binary values compare as bytes, tuples as lists (what decoding gives back)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    return value


def plain_type(ptype: PacketType) -> PacketType:
    return {PacketType.BINARY_EVENT: PacketType.EVENT, PacketType.BINARY_ACK: PacketType.ACK}.get(
        ptype, ptype
    )


@pytest.mark.parametrize("backend", list(PARSERS))
@given(packet=packets())
def test_decode_of_encode_gives_the_packet_back(backend: str, packet: Packet) -> None:
    parser = PARSERS[backend]
    frames = parser.encode(packet)
    decoder = Decoder(parser=parser)
    out: list[Packet] = []
    for frame in frames:
        out.extend(decoder.feed(frame))
    assert len(out) == 1
    (decoded,) = out
    assert decoded.type is plain_type(packet.type)
    assert decoded.nsp == packet.nsp
    assert decoded.id == packet.id
    assert decoded.data == normalize(packet.data)
    assert not decoder.reconstructing


@given(packet=packets())
def test_both_json_backends_give_the_same_packet(packet: Packet) -> None:
    # Texts may differ only in how a float is spelled (1e-05 vs 0.00001); values never do.
    decoded: list[Packet] = []
    for writer in PARSERS.values():
        for reader in PARSERS.values():
            decoder = Decoder(parser=reader)
            decoded.extend(p for frame in writer.encode(packet) for p in decoder.feed(frame))
    assert all(repr(d) == repr(decoded[0]) for d in decoded)


@given(packet=packets(binary=True))
def test_attachment_count_matches_placeholders(packet: Packet) -> None:
    frames = PARSERS["orjson"].encode(packet)
    header = frames[0]
    assert isinstance(header, str)
    assert header.count('"_placeholder":true') == len(frames) - 1
    if len(frames) > 1:
        assert header[0] in "56"
        assert header[1:].startswith(f"{len(frames) - 1}-")


@pytest.mark.parametrize("backend", list(PARSERS))
@given(chunks=st.lists(st.text(max_size=60) | st.binary(max_size=20), max_size=6))
def test_decoder_either_returns_packets_or_raises_protocol_errors(
    backend: str, chunks: list[str | bytes]
) -> None:
    decoder = Decoder(parser=PARSERS[backend])
    for chunk in chunks:
        try:
            for packet in decoder.feed(chunk):
                assert isinstance(packet, Packet)
        except ProtocolError:
            pass


@given(
    head=st.sampled_from(["0", "1", "2", "3", "4", "5", "6", "51-", "62-/a,", "2/x,", "31"]),
    body=st.text(alphabet='[]{}",:0123456789.-eEtruefalsn\\u/ ab', max_size=80),
)
def test_structured_garbage_never_escapes_as_another_exception(head: str, body: str) -> None:
    for parser in PARSERS.values():
        decoder = Decoder(parser=parser)
        try:
            decoder.feed(head + body)
        except ProtocolError:
            pass


@given(text=st.text(max_size=80))
def test_both_backends_agree_on_every_decode(text: str) -> None:
    results: list[tuple[str, tuple[Packet, int] | None]] = []
    for parser in PARSERS.values():
        try:
            results.append(("ok", parser.decode_header(text)))
        except ProtocolError:
            results.append(("error", None))
    assert results[0] == results[1]
