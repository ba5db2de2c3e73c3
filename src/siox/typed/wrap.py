"""Typed handlers: arguments checked and converted before the call, results encoded after.

`typed_handler` wraps a handler at registration (its `EventPlan` is built then, once). An
event whose arguments do not fit never reaches the handler: the refusal is reported
(``report(exc, socket, event)``: the server logs it and calls its error hook), and the
handler's return value, hence the ack when the client asked for one, is `refusal(exc)`:

    {"error": "invalid_payload", "event": "<event>", "details": [{"loc": [...], "message": ...}]}
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import CoroutineType
from typing import Any

from .plan import EventPlan, InvalidPayload

__all__ = ["INVALID_PAYLOAD", "Report", "refusal", "typed_handler"]

#: The ``error`` of the ack answering an event whose arguments were refused.
INVALID_PAYLOAD = "invalid_payload"
#: ``report(exc, socket, event)``: hand a refusal to the server's error hook.
Report = Callable[[InvalidPayload, Any, str], None]


def refusal(exc: InvalidPayload) -> dict[str, Any]:
    """The ack value answering an event refused with ``exc``."""
    return {"error": INVALID_PAYLOAD, "event": exc.event, "details": exc.details}


def _refuse(report: Report, exc: InvalidPayload, socket: Any, event: str) -> dict[str, Any]:
    report(exc, socket, event)
    return refusal(exc)


def typed_handler(handler: Callable[..., Any], event: str, report: Report) -> Callable[..., Any]:
    """``handler`` checking its arguments and encoding its result, or itself when untyped.

    The wrapper keeps the handler as ``__wrapped__`` (and as ``_siox_once``, which siox's
    ``listeners``/``off`` look through) and its plan as ``_siox_plan``.

    Raises:
        TypeError: an annotation siox cannot validate (at registration, not at the first event).
    """
    plan = EventPlan.of(handler)
    if not plan.typed:
        return handler
    validate, encode = plan.validate, plan.encode
    plain = inspect.isfunction(handler) or inspect.ismethod(handler)
    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(handler):

        async def typed_async(socket: Any, *args: Any) -> Any:
            try:
                converted = validate(event, args)
            except InvalidPayload as exc:
                return _refuse(report, exc, socket, event)
            return encode(await handler(socket, *converted))

        wrapper = typed_async
    else:

        def typed_sync(socket: Any, *args: Any) -> Any:
            try:
                converted = validate(event, args)
            except InvalidPayload as exc:
                return _refuse(report, exc, socket, event)
            result = handler(socket, *converted)
            if type(result) is CoroutineType or (not plain and inspect.isawaitable(result)):
                return _encoded(result, encode)  # a plain function returning a coroutine
            return encode(result)

        wrapper = typed_sync
    functools.update_wrapper(wrapper, handler)
    wrapper.__dict__.update(_siox_once=handler, _siox_plan=plan)
    return wrapper


async def _encoded(result: Any, encode: Callable[[Any], Any]) -> Any:
    return encode(await result)
