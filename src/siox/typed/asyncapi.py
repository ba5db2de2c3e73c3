"""An AsyncAPI 3.0 document of a siox app: namespaces, events, payload schemas and acks.

The mapping:

* each namespace is a channel whose ``address`` is the namespace name (``"/"``, ``"/chat"``),
  keyed ``main`` for ``"/"`` and by the name without its slash for the others (``chat``);
* each event is a message of its channel named like the event; its ``payload`` is the JSON
  Schema of the event's argument list (an array: one item per argument after the event
  name); binary arguments are ``{"contentMediaType": "application/octet-stream"}``;
* an event clients emit is a ``receive`` operation (the app receives it); a declared server
  emit is a ``send`` operation;
* an ack is the operation's ``reply``: a message ``<event>.ack`` on the same channel whose
  payload is the array of the ack's arguments;
* named types (dataclasses, TypedDicts, enums, models) are in ``components.schemas``.

Keys of channels, messages and operations allow only letters, digits, ``.``, ``-`` and ``_``:
other characters of a namespace or event name become ``_`` in keys (the ``address`` and the
message ``name`` keep the real names).
"""

from __future__ import annotations

from typing import Any

from .catalog import EventSpec, NamespaceSpec, catalog, event_schemas, key
from .schema import Schemas

__all__ = ["asyncapi_document"]

_PREFIX = "#/components/schemas/"


def _channel_key(namespace: str, taken: set[str]) -> str:
    base = "main" if namespace == "/" else key(namespace.strip("/"))
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _add_event(
    document: dict[str, Any],
    schemas: Schemas,
    channel: str,
    event: EventSpec,
    action: str,
) -> None:
    messages = document["channels"][channel]["messages"]
    payload, ack = event_schemas(event, schemas)
    message_key = key(event.name)
    while message_key in messages:
        message_key += "_"
    messages[message_key] = {"name": event.name, "payload": payload}
    channel_ref = {"$ref": f"#/channels/{channel}"}
    operation: dict[str, Any] = {
        "action": action,
        "channel": channel_ref,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{message_key}"}],
    }
    if event.doc:
        operation["description"] = event.doc
    if ack is not None:
        ack_key = f"{message_key}.ack"
        messages[ack_key] = {
            "name": f"{event.name} ack",
            "summary": f"The acknowledgement of {event.name!r}.",
            "payload": ack,
        }
        operation["reply"] = {
            "channel": channel_ref,
            "messages": [{"$ref": f"#/channels/{channel}/messages/{ack_key}"}],
        }
    operation_key = f"{channel}.{message_key}.{action}"
    document["operations"][operation_key] = operation


def asyncapi_document(
    server: Any, *, title: str = "siox application", version: str = "1.0.0"
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``server``'s namespaces and events, as a dict (JSON-ready).

    Args:
        server: a `siox.Server` (its handlers' annotations and declared emits are read).
        title: ``info.title``.
        version: ``info.version`` (the app's version, not AsyncAPI's).

    Raises:
        TypeError: an annotation siox cannot describe.
    """
    schemas = Schemas(_PREFIX)
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Socket.IO events: each message's payload is the argument list.",
        },
        "defaultContentType": "application/json",
        "channels": {},
        "operations": {},
    }
    taken: set[str] = set()
    spec: NamespaceSpec
    for spec in catalog(server):
        channel = _channel_key(spec.name, taken)
        document["channels"][channel] = {
            "address": spec.name,
            "title": f"Namespace {spec.name}",
            "messages": {},
        }
        for event in spec.incoming:
            _add_event(document, schemas, channel, event, "receive")
        for event in spec.outgoing:
            _add_event(document, schemas, channel, event, "send")
    document["components"] = {"schemas": dict(sorted(schemas.defs.items()))}
    return document
