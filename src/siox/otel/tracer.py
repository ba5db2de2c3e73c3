"""`SpanTracer`: a span around each namespace connect and each handled event.

Both run inside their span's context, so spans the application's middlewares and handlers
start are its children. The parent is the trace context the client sent (the CONNECT's
``auth``, an event's last argument); without one the span starts a new trace.

The socket id is recorded for Socket.IO v5 clients only: a legacy client's socket id is (or
holds) its Engine.IO session id, which authenticates its polling requests.
"""

from __future__ import annotations

from collections.abc import Coroutine
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import SpanKind, Status, StatusCode

from ..server.observer import EventHandling, EventTracer
from . import names
from .carrier import carrier_in_auth, carrier_of

if TYPE_CHECKING:
    from ..server.driver import ConnectionDriver
    from ..server.socket import Socket
    from ..socketio.events import ConnectRequested

__all__ = ["ActiveSpan", "SpanTracer", "active"]


class ActiveSpan:
    """The span siox is running application code in, and whether that code failed."""

    __slots__ = ("failed", "span")

    def __init__(self, span: trace.Span) -> None:
        self.span = span
        self.failed = False

    def fail(self, exc: BaseException) -> None:
        """Record ``exc`` on the span (an exception event) and mark it ERROR."""
        self.failed = True
        self.span.record_exception(exc)
        self.span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))


#: The span of the connect or event being handled in this context, if any.
active: ContextVar[ActiveSpan | None] = ContextVar("siox_otel_active", default=None)


class SpanTracer(EventTracer):
    """Wraps connects and handled events in spans of ``tracer``.

    Args:
        tracer: the OpenTelemetry tracer.
        propagator: reads the client's carrier (W3C Trace Context).
        strip_carrier: whether an event's carrier argument is removed before the event
            middlewares and the handler see the arguments.
    """

    def __init__(
        self, tracer: trace.Tracer, propagator: TextMapPropagator, *, strip_carrier: bool
    ) -> None:
        self.tracer = tracer
        self.propagator = propagator
        self.strip_carrier = strip_carrier

    def _parent(self, carrier: dict[str, str] | None) -> Context:
        # Never the ambient context: a polling request's or a WebSocket's HTTP span is not the
        # cause of what the client sends over the session.
        if carrier is None:
            return Context()
        return self.propagator.extract(carrier, context=Context())

    def connect(
        self,
        driver: ConnectionDriver,
        request: ConnectRequested,
        run: Coroutine[Any, Any, None],
    ) -> Coroutine[Any, Any, None]:
        """``run`` inside a ``connect`` span."""
        return self._connect(driver, request, run)

    async def _connect(
        self,
        driver: ConnectionDriver,
        request: ConnectRequested,
        run: Coroutine[Any, Any, None],
    ) -> None:
        span = self.tracer.start_span(
            names.CONNECT,
            context=self._parent(carrier_in_auth(request.auth)),
            kind=SpanKind.SERVER,
            attributes={
                names.SYSTEM: names.SYSTEM_NAME,
                names.OPERATION_NAME: "connect",
                names.OPERATION_TYPE: "process",
                names.DESTINATION: request.nsp,
                names.ENGINE_TRANSPORT: driver.conn.transport,
            },
        )
        state = ActiveSpan(span)
        token = active.set(state)
        try:
            with trace.use_span(span, end_on_exit=True, record_exception=True):
                await run
                socket = driver.sockets.get(request.nsp)
                if socket is not None and socket.connected:
                    if driver.session.protocol >= 5:
                        span.set_attribute(names.CLIENT_ID, socket.id)
                    result = "accepted"
                else:
                    result = "error" if state.failed else "refused"
                span.set_attribute(names.CONNECT_RESULT, result)
        finally:
            active.reset(token)

    def event(
        self,
        driver: ConnectionDriver,
        socket: Socket,
        args: list[Any],
        ack_id: int | None,
        handle: EventHandling,
    ) -> Coroutine[Any, Any, None]:
        """``handle`` inside a span named after the event, when the event has a handler."""
        carrier = carrier_of(args[-1]) if len(args) > 1 else None
        if carrier is not None and self.strip_carrier:
            args = args[:-1]
        if args[0] not in socket.namespace.handlers:
            # Dropped by the server: no span, and an unknown name never names one.
            return handle(socket, args, ack_id)
        return self._event(socket, args, ack_id, handle, carrier, driver.session.protocol >= 5)

    async def _event(
        self,
        socket: Socket,
        args: list[Any],
        ack_id: int | None,
        handle: EventHandling,
        carrier: dict[str, str] | None,
        with_id: bool,
    ) -> None:
        event = args[0]
        attributes = {
            names.SYSTEM: names.SYSTEM_NAME,
            names.OPERATION_NAME: "event",
            names.OPERATION_TYPE: "process",
            names.DESTINATION: socket.nsp,
            names.EVENT: event,
        }
        if with_id:
            attributes[names.CLIENT_ID] = socket.id
        span = self.tracer.start_span(
            event, context=self._parent(carrier), kind=SpanKind.CONSUMER, attributes=attributes
        )
        state = ActiveSpan(span)
        token = active.set(state)
        try:
            with trace.use_span(span, end_on_exit=True, record_exception=True):
                await handle(socket, args, ack_id)
                if ack_id is None:
                    ack = "none"
                else:
                    ack = "not sent" if state.failed or not socket.connected else "sent"
                span.set_attribute(names.ACK, ack)
        finally:
            active.reset(token)
