"""`TracingObserver`: the handshake span, and application errors recorded on the active span."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import SpanKind

from ..server.observer import ServerObserver
from . import names
from .tracer import active

if TYPE_CHECKING:
    from ..server.engine_api import EngineConnection
    from ..server.runner import ErrorContext

__all__ = ["TracingObserver"]


class TracingObserver(ServerObserver):
    """Records a ``handshake`` span per Engine.IO session, and errors on connect/event spans.

    The handshake span runs from the handshake request's arrival to the session's opening.
    Its parent is the ``traceparent`` header of the handshake request when it has one, else
    the current context (an HTTP server span, when the ASGI app is instrumented).
    """

    def __init__(self, tracer: trace.Tracer, propagator: TextMapPropagator) -> None:
        self.tracer = tracer
        self.propagator = propagator

    def connection_opened(self, conn: EngineConnection) -> None:
        """One ``handshake`` span, ended at once."""
        request = conn.request
        headers = request.headers
        parent = self.propagator.extract(headers) if "traceparent" in headers else None
        now = time.time_ns()
        issued = int(request.issued * 1e9) if request.issued else now
        attributes: dict[str, str | int] = {
            names.SYSTEM: names.SYSTEM_NAME,
            names.OPERATION_NAME: "handshake",
            names.ENGINE_TRANSPORT: conn.transport,
            names.ENGINE_PROTOCOL: conn.eio,
        }
        if request.address:
            attributes[names.CLIENT_ADDRESS] = request.address
        span = self.tracer.start_span(
            names.HANDSHAKE,
            context=parent,
            kind=SpanKind.SERVER,
            attributes=attributes,
            start_time=min(issued, now),
        )
        span.end(end_time=now)

    def handler_error(self, exc: BaseException, context: ErrorContext) -> None:
        """Record ``exc`` on the span of the connect or event it interrupted."""
        state = active.get()
        if state is not None:
            state.fail(exc)
