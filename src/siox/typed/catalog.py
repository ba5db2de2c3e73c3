"""What an app's server says about its events: the input of the AsyncAPI and TypeScript exports.

`catalog(server)` reads a `siox.Server` (duck-typed: its ``namespaces``, each namespace's
``handlers``, and its ``declared_emits``) and returns, per namespace, the events clients send
(from the handlers' annotations) and the events the server emits (declared with
``sio.declare_emits``). Dynamic namespace rules have no name and are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .plan import NO_ANNOTATION, EventPlan, Param
from .schema import Schemas

__all__ = ["RESERVED", "EventSpec", "NamespaceSpec", "catalog", "event_schemas"]

#: Handlers that are not events a client emits.
RESERVED = frozenset({"connect", "connection", "disconnect", "disconnecting"})


@dataclass(frozen=True)
class EventSpec:
    """One event of one namespace.

    Attributes:
        name: the event name.
        params: its arguments (for a client's event, the handler's parameters after socket).
        ack: the type of the answer (the handler's return annotation, or the declared ack);
            `NO_ANNOTATION` when not known, None when there is none.
        doc: the handler's docstring, if any.
    """

    name: str
    params: tuple[Param, ...]
    ack: Any
    doc: str | None = None


@dataclass(frozen=True)
class NamespaceSpec:
    """The events of one namespace: ``incoming`` (client to server) and ``outgoing``."""

    name: str
    incoming: tuple[EventSpec, ...]
    outgoing: tuple[EventSpec, ...]


def _incoming(name: str, handler: Any) -> EventSpec:
    handler = getattr(handler, "_siox_once", handler)
    plan = EventPlan.of(handler, build=False)
    doc = handler.__doc__.strip() if getattr(handler, "__doc__", None) else None
    return EventSpec(name, plan.params, plan.returns, doc)


def _outgoing(name: str, arg_types: tuple[Any, ...], ack: Any) -> EventSpec:
    params = tuple(Param(f"arg{i}" if i else "data", tp, True) for i, tp in enumerate(arg_types))
    return EventSpec(name, params, ack)


def catalog(server: Any) -> list[NamespaceSpec]:
    """The namespaces of ``server`` and their events, sorted by name."""
    declared: dict[str, dict[str, tuple[tuple[Any, ...], Any]]] = getattr(
        server, "declared_emits", {}
    )
    out = []
    for name in sorted(server.namespaces):
        handlers = server.namespaces[name].handlers
        incoming = tuple(
            _incoming(event, handlers[event])
            for event in sorted(handlers)
            if isinstance(event, str) and event not in RESERVED
        )
        emits = declared.get(name, {})
        outgoing = tuple(_outgoing(event, *emits[event]) for event in sorted(emits))
        out.append(NamespaceSpec(name, incoming, outgoing))
    return out


def _ack_types(ack: Any) -> list[Any] | None:
    """The types of the ack arguments (a returned tuple is several), None for no ack."""
    if ack in (None, type(None), NO_ANNOTATION):
        return None
    origin = getattr(ack, "__origin__", None)
    args: tuple[Any, ...] = getattr(ack, "__args__", ())
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return list(args)
    return [ack]


def event_schemas(
    event: EventSpec, schemas: Schemas
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The schemas of ``event``'s argument list and of its ack's argument list (or None)."""
    fixed = [p for p in event.params if not p.variadic]
    items = [schemas.of(p.annotation if p.annotation is not NO_ANNOTATION else Any) for p in fixed]
    optional = sum(1 for p in fixed if not p.required)
    payload = Schemas.arguments(items, optional)
    variadic = [p for p in event.params if p.variadic]
    if variadic:
        rest = variadic[0].annotation
        payload["additionalItems"] = schemas.of(Any if rest is NO_ANNOTATION else rest)
        del payload["maxItems"]
    ack_types = _ack_types(event.ack)
    ack = None if ack_types is None else Schemas.arguments([schemas.of(t) for t in ack_types])
    return payload, ack


def key(text: str) -> str:
    """``text`` as an AsyncAPI component key (letters, digits, ``.``, ``-``, ``_``)."""
    return re.sub(r"[^\w.\-]", "_", text, flags=re.ASCII) or "_"
