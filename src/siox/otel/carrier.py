"""Finding a W3C trace context carrier in what a client sent (``auth``, an event's arguments).

A carrier is a JSON object holding a ``traceparent`` string, and maybe a ``tracestate`` string
(``{"traceparent": "00-<trace id>-<span id>-01"}``, what ``propagation.inject`` writes into a
plain object in JavaScript or Python; a ``baggage`` entry it may add is allowed and not read).
In an event's arguments only a last argument holding nothing else counts, so an application
payload that happens to have a ``traceparent`` field is never mistaken for one. Values longer
than `MAX_VALUE` characters are not read.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CARRIER_KEYS", "MAX_VALUE", "carrier_in_auth", "carrier_of"]

#: The keys a carrier argument may hold (W3C Trace Context, and W3C Baggage's).
CARRIER_KEYS = frozenset({"traceparent", "tracestate", "baggage"})
#: The longest ``traceparent`` or ``tracestate`` read, in characters (W3C advises 512 for
#: ``tracestate``; a ``traceparent`` is 55).
MAX_VALUE = 512


def _values(source: dict[Any, Any]) -> dict[str, str] | None:
    parent = source.get("traceparent")
    if type(parent) is not str or len(parent) > MAX_VALUE:
        return None
    carrier = {"traceparent": parent}
    state = source.get("tracestate")
    if type(state) is str and len(state) <= MAX_VALUE:
        carrier["tracestate"] = state
    return carrier


def carrier_of(value: Any) -> dict[str, str] | None:
    """The carrier ``value`` is, as an event's last argument, or None.

    ``value`` is one when it is a dict with a string ``traceparent`` and no keys other than
    ``traceparent``, ``tracestate`` and ``baggage``.
    """
    if type(value) is not dict or "traceparent" not in value or not value.keys() <= CARRIER_KEYS:
        return None
    return _values(value)


def carrier_in_auth(auth: Any) -> dict[str, str] | None:
    """The carrier in a CONNECT's ``auth`` (its ``traceparent``/``tracestate`` keys), or None.

    Other keys of ``auth`` (credentials...) are ignored here and left to the application.
    """
    if type(auth) is not dict:
        return None
    return _values(auth)
