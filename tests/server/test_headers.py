"""Request headers decoded for a connection: the same text as a plain latin-1 decode (repeated
names joined), with names and common values shared between connections, in bounded tables."""

from __future__ import annotations

from hypothesis import given, strategies as st

from siox.server import headers as module
from siox.server.headers import decode_headers

pairs = st.lists(
    st.tuples(
        st.sampled_from([b"host", b"upgrade", b"sec-websocket-key", b"x-a", b"cookie"]),
        st.binary(max_size=20),
    ),
    max_size=8,
)


def plain(items: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in items:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        out[key] = out[key] + ", " + text if key in out else text
    return out


@given(pairs)
def test_the_same_text_as_a_plain_decode(items: list[tuple[bytes, bytes]]) -> None:
    assert decode_headers(items) == plain(items)


def test_common_values_are_shared_and_keys_are_not() -> None:
    first = decode_headers([(b"upgrade", b"websocket"), (b"sec-websocket-key", b"abc==")])
    second = decode_headers([(b"upgrade", b"websocket"), (b"sec-websocket-key", b"abc==")])
    assert first["upgrade"] is second["upgrade"]
    assert first["sec-websocket-key"] is not second["sec-websocket-key"]
    assert next(iter(first)) is next(iter(second))  # the name "upgrade"


def test_the_tables_stay_bounded() -> None:
    for i in range(2 * module._TABLE_SIZE):
        decode_headers([(f"x-{i}".encode(), b"v"), (b"host", f"h{i}".encode())])
    assert len(module._NAMES) <= module._TABLE_SIZE
    assert len(module._VALUES) <= module._TABLE_SIZE
