"""The OPEN packet's JSON (encoded once but for the sid) is exactly what ``json.dumps`` gives
for the five fields, in their order, whatever the sid (``generate_id`` may give any string)."""

from __future__ import annotations

import json

from hypothesis import given, strategies as st

from siox.engineio.handshake import build_open_data


@given(
    st.text(min_size=1, max_size=40),
    st.sampled_from([(), ("websocket",)]),
    st.floats(0.001, 1000, allow_nan=False),
    st.floats(0.001, 1000, allow_nan=False),
    st.integers(1, 10**9),
)
def test_open_data_is_the_json_of_the_five_fields(
    sid: str, upgrades: tuple[str, ...], interval: float, timeout: float, max_payload: int
) -> None:
    expected = json.dumps(
        {
            "sid": sid,
            "upgrades": list(upgrades),
            "pingInterval": round(interval * 1000),
            "pingTimeout": round(timeout * 1000),
            "maxPayload": max_payload,
        },
        separators=(",", ":"),
    )
    got = build_open_data(
        sid,
        upgrades=upgrades,
        ping_interval=interval,
        ping_timeout=timeout,
        max_payload=max_payload,
    )
    assert got == expected
    assert json.loads(got)["sid"] == sid
