"""Hypothesis strategies shared by the codec tests."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, strategies as st

from siox.parser import DEFAULT_MAX_ATTACHMENTS, Packet, PacketType
from siox.parser.packet import RESERVED_EVENTS

# Text including astral characters, but no lone surrogates (not valid UTF-8 on the wire).
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != 0 or str(f) == "0.0")
    | text
)


def json_values(binary: bool = False, depth: int = 4) -> st.SearchStrategy[Any]:
    leaves = json_scalars | st.binary(max_size=40) if binary else json_scalars
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4)
        ),
        max_leaves=12,
    )


def _binaries(value: Any) -> int:
    if isinstance(value, bytes):
        return 1
    if isinstance(value, list):
        return sum(_binaries(item) for item in value)
    if isinstance(value, dict):
        return sum(_binaries(item) for item in value.values())
    return 0


event_names = text.filter(lambda s: s not in RESERVED_EVENTS)
namespaces = st.just("/") | st.from_regex(r"\A/[a-zA-Z0-9_\-/.~]{1,12}\Z")
ack_ids = st.none() | st.integers(min_value=0, max_value=2**53 - 1)


@st.composite
def packets(draw: st.DrawFn, binary: bool = True) -> Packet:
    """Valid protocol-5 packets, with binary anywhere in events and acks."""
    kind = draw(st.sampled_from(["connect", "disconnect", "event", "ack", "error"]))
    nsp = draw(namespaces)
    if kind == "connect":
        data = draw(st.none() | st.dictionaries(text, json_values(), max_size=4))
        return Packet(PacketType.CONNECT, nsp, data)
    if kind == "disconnect":
        return Packet(PacketType.DISCONNECT, nsp)
    if kind == "error":
        message = draw(text)
        data = draw(
            st.just({"message": message})
            | st.builds(lambda d: {"message": message, "data": d}, json_values())
        )
        return Packet(PacketType.CONNECT_ERROR, nsp, data)
    args = draw(st.lists(json_values(binary=binary), max_size=4))
    assume(_binaries(args) <= DEFAULT_MAX_ATTACHMENTS)  # what a default decoder accepts
    if kind == "event":
        return Packet(PacketType.EVENT, nsp, [draw(event_names), *args], draw(ack_ids))
    return Packet(PacketType.ACK, nsp, args, draw(st.integers(0, 2**53 - 1)))
