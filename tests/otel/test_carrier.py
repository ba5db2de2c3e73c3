"""Which values count as a trace carrier (an event's last argument, a CONNECT's auth)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("opentelemetry")
from siox.otel.carrier import MAX_VALUE, carrier_in_auth, carrier_of

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"traceparent": PARENT}, {"traceparent": PARENT}),
        (
            {"traceparent": PARENT, "tracestate": "a=1"},
            {"traceparent": PARENT, "tracestate": "a=1"},
        ),
        ({"traceparent": PARENT, "baggage": "k=v"}, {"traceparent": PARENT}),
        ({"traceparent": PARENT, "id": 7}, None),  # an application payload
        ({"tracestate": "a=1"}, None),
        ({"traceparent": 42}, None),
        ({"traceparent": "x" * (MAX_VALUE + 1)}, None),
        ({"traceparent": PARENT, "tracestate": "x" * (MAX_VALUE + 1)}, {"traceparent": PARENT}),
        ([PARENT], None),
        (PARENT, None),
        (None, None),
    ],
)
def test_a_last_argument_is_a_carrier_only_when_it_holds_nothing_else(
    value: Any, expected: dict[str, str] | None
) -> None:
    assert carrier_of(value) == expected


def test_auth_carries_a_trace_context_next_to_credentials() -> None:
    auth = {"token": "t", "traceparent": PARENT, "tracestate": "a=1"}
    assert carrier_in_auth(auth) == {"traceparent": PARENT, "tracestate": "a=1"}
    assert carrier_in_auth({"token": "t"}) is None
    assert carrier_in_auth("not a dict") is None
