"""Typed events: handler arguments checked against their annotations, and typed exports.

Turn it on with ``siox.Server(validate_events=True)``: a handler's parameters after ``socket``,
annotated with dataclasses, TypedDicts, pydantic models, msgspec Structs (when those libraries
are installed) or plain types, get converted arguments; arguments that do not fit never reach
the handler (see `siox.typed.wrap`). `asyncapi_document` and `typescript_interfaces` describe
an app's events from the same annotations. Everything here is sans-I/O.
"""

from __future__ import annotations

from .asyncapi import asyncapi_document
from .convert import validator
from .encode import encode
from .plan import EventPlan, InvalidPayload
from .typescript import typescript_interfaces
from .wrap import INVALID_PAYLOAD, refusal, typed_handler

__all__ = [
    "INVALID_PAYLOAD",
    "EventPlan",
    "InvalidPayload",
    "asyncapi_document",
    "encode",
    "refusal",
    "typed_handler",
    "typescript_interfaces",
    "validator",
]
