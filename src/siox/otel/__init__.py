"""OpenTelemetry spans for a siox server (the ``siox[otel]`` extra: opentelemetry-api).

``sio.instrument_tracing()`` (or `instrument_tracing`) makes the server record a span for each
Engine.IO handshake, each namespace connect and each handled event, continuing a trace the
client started when it sends a W3C ``traceparent`` (in ``auth``, or as an event's last
argument). See docs/tracing.md for the span names and attributes.
"""

from __future__ import annotations

from .carrier import carrier_of
from .instrument import SioxTracing, instrument_tracing

__all__ = ["SioxTracing", "carrier_of", "instrument_tracing"]
