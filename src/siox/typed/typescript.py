"""TypeScript interfaces of a siox app's events, for socket.io-client's typed ``Socket``.

``typescript_interfaces(server)`` returns a module that exports, for the main namespace,
``ServerToClientEvents`` and ``ClientToServerEvents``, and for every other namespace the same
pair prefixed with its name in PascalCase (``/chat`` -> ``ChatServerToClientEvents``), plus
one ``interface`` (or ``type``) per named type. Use it as::

    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url);

Types go through JSON Schema (`siox.typed.schema`), so dataclasses, TypedDicts, enums,
pydantic models and msgspec Structs come out alike. Binary values are
``ArrayBuffer | ArrayBufferView``; an ack is the last parameter, a callback.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .catalog import EventSpec, catalog, event_schemas
from .schema import Schemas

__all__ = ["ts_type", "typescript_interfaces"]

_PREFIX = "#/$defs/"
_IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*$")
_PRIMITIVES = {
    "string": "string",
    "integer": "number",
    "number": "number",
    "boolean": "boolean",
    "null": "null",
}
_BINARY = "ArrayBuffer | ArrayBufferView"


def _name(name: str) -> str:
    cleaned = re.sub(r"\W", "_", name)
    return cleaned if _IDENTIFIER.match(cleaned) else f"_{cleaned}"


def _prop(name: str) -> str:
    return name if _IDENTIFIER.match(name) else json.dumps(name)


def _union(parts: list[str]) -> str:
    unique = list(dict.fromkeys(parts))
    return " | ".join(unique) if unique else "never"


def _wrap(text: str) -> str:
    return f"({text})" if " | " in text or " & " in text else text


def ts_type(schema: dict[str, Any]) -> str:
    """The TypeScript type of values matching the JSON Schema ``schema``."""
    if "$ref" in schema:
        return _name(schema["$ref"].rsplit("/", 1)[-1])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return _union([json.dumps(v) for v in schema["enum"]])
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return _union([ts_type(s) for s in schema[combinator]])
    if "allOf" in schema:
        return " & ".join(_wrap(ts_type(s)) for s in schema["allOf"]) or "unknown"
    kind = schema.get("type")
    if isinstance(kind, list):
        return _union([ts_type({**schema, "type": k}) for k in kind])
    if kind == "array":
        return _array(schema)
    if kind == "object":
        return _object(schema)
    if kind in _PRIMITIVES:
        return _PRIMITIVES[kind]
    if schema.get("contentMediaType") == "application/octet-stream":
        return _BINARY
    return "unknown"


def _array(schema: dict[str, Any]) -> str:
    items = schema.get("prefixItems", schema.get("items"))
    if isinstance(items, list):
        return "[" + ", ".join(ts_type(s) for s in items) + "]"
    return f"{_wrap(ts_type(items))}[]" if isinstance(items, dict) else "unknown[]"


def _object(schema: dict[str, Any]) -> str:
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    if not properties:
        return f"Record<string, {ts_type(extra) if isinstance(extra, dict) else 'unknown'}>"
    return "{ " + " ".join(_members(properties, schema.get("required", []))) + " }"


def _members(properties: dict[str, Any], required: list[str]) -> list[str]:
    return [
        f"{_prop(k)}{'' if k in required else '?'}: {ts_type(v)};" for k, v in properties.items()
    ]


def _declaration(name: str, schema: dict[str, Any]) -> str:
    doc = schema.get("description")
    head = f"/** {' '.join(str(doc).split())} */\n" if doc else ""
    if schema.get("type") == "object" and schema.get("properties"):
        body = "\n".join(
            f"  {m}" for m in _members(schema["properties"], schema.get("required", []))
        )
        return f"{head}export interface {_name(name)} {{\n{body}\n}}"
    return f"{head}export type {_name(name)} = {ts_type(schema)};"


def _signature(event: EventSpec, schemas: Schemas) -> str:
    payload, ack = event_schemas(event, schemas)
    fixed = [p for p in event.params if not p.variadic]
    typed = [(p, ts_type(s)) for p, s in zip(fixed, payload["items"], strict=True)]
    required = [f"{_name(p.name)}: {t}" for p, t in typed if p.required]
    optional = [(_name(p.name), t) for p, t in typed if not p.required]
    rest = None
    if "additionalItems" in payload:
        param = next(p for p in event.params if p.variadic)
        rest = f"...{_name(param.name)}: {_wrap(ts_type(payload['additionalItems']))}[]"
    doc = f"  /** {' '.join(event.doc.split())} */\n" if event.doc else ""
    if ack is None:  # optional and rest parameters can stay last
        params = [*required, *(f"{n}?: {t}" for n, t in optional), *([rest] if rest else [])]
        return f"{doc}  {_prop(event.name)}: ({', '.join(params)}) => void;"
    count = len(ack["items"])
    names = ["ack"] if count == 1 else [f"ack{i}" for i in range(count)]
    answer = ", ".join(f"{n}: {ts_type(s)}" for n, s in zip(names, ack["items"], strict=True))
    callback = f"callback: ({answer}) => void"
    if not optional and rest is None:
        return f"{doc}  {_prop(event.name)}: ({', '.join([*required, callback])}) => void;"
    # The callback comes last: one labelled tuple per number of optional arguments given.
    variants = []
    for given in range(len(optional) + 1):
        present = [f"{n}: {t}" for n, t in optional[:given]]
        tail = [rest] if rest and given == len(optional) else []
        variants.append("[" + ", ".join([*required, *present, *tail, callback]) + "]")
    return f"{doc}  {_prop(event.name)}: (...args: {' | '.join(variants)}) => void;"


def _pascal(namespace: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", namespace)
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def typescript_interfaces(server: Any) -> str:
    """A TypeScript module declaring ``server``'s events for socket.io-client's ``Socket<>``.

    Raises:
        TypeError: an annotation siox cannot describe.
    """
    schemas = Schemas(_PREFIX)
    blocks = []
    for spec in catalog(server):
        prefix = "" if spec.name == "/" else _pascal(spec.name)
        for title, events in (
            ("ServerToClientEvents", spec.outgoing),
            ("ClientToServerEvents", spec.incoming),
        ):
            body = "\n".join(_signature(e, schemas) for e in events)
            header = f"/** Events of namespace {spec.name}. */\n"
            blocks.append(
                f"{header}export interface {prefix}{title} {{\n{body}\n}}".replace("{\n\n}", "{}")
            )
    types = [_declaration(name, schemas.defs[name]) for name in sorted(schemas.defs)]
    lines = ["// Generated by siox (python -m siox.typed.export_cli typescript): do not edit.", ""]
    return "\n\n".join(["\n".join(lines).rstrip(), *types, *blocks]) + "\n"
