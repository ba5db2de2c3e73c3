"""`instrument_tracing`: OpenTelemetry spans for what a server does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .._version import __version__
from .observer import TracingObserver
from .tracer import SpanTracer

if TYPE_CHECKING:
    from ..server.server import Server

__all__ = ["SioxTracing", "instrument_tracing"]

#: The instrumentation scope's name.
SCOPE = "siox"


class SioxTracing:
    """A server's tracing (what `instrument_tracing` returns).

    Attributes:
        tracer: the OpenTelemetry tracer spans come from.
        observer: the `TracingObserver` (handshake spans, errors).
        span_tracer: the `SpanTracer` wrapping connects and events.
    """

    def __init__(
        self,
        sio: Server,
        tracer: trace.Tracer,
        propagator: TextMapPropagator,
        *,
        strip_carrier: bool,
    ) -> None:
        if sio.tracer is not None:
            raise RuntimeError("this server's tracing is already instrumented")
        self.sio = sio
        self.tracer = tracer
        self.observer = TracingObserver(tracer, propagator)
        self.span_tracer = SpanTracer(tracer, propagator, strip_carrier=strip_carrier)
        sio.add_observer(self.observer)
        sio.tracer = self.span_tracer


def instrument_tracing(
    sio: Server,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    propagator: TextMapPropagator | None = None,
    strip_carrier: bool = True,
) -> SioxTracing:
    """Record OpenTelemetry spans of ``sio``'s handshakes, namespace connects and events.

    Connections opened afterwards are traced (install it before serving).

    Args:
        sio: the server.
        tracer_provider: where the spans go; the global provider when None.
        propagator: reads the trace context the client sends; W3C Trace Context
            (``traceparent``/``tracestate``) when None.
        strip_carrier: remove a trace carrier sent as an event's last argument before the
            event middlewares and the handler see the arguments (catch-all ``on_any``
            listeners see it either way).

    Returns:
        The `SioxTracing`.

    Raises:
        RuntimeError: the server is already traced.
    """
    tracer = trace.get_tracer(SCOPE, __version__, tracer_provider=tracer_provider)
    return SioxTracing(
        sio,
        tracer,
        TraceContextTextMapPropagator() if propagator is None else propagator,
        strip_carrier=strip_carrier,
    )
