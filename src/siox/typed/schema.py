"""JSON Schema of type annotations (sans-I/O), for the AsyncAPI and TypeScript exports.

`Schemas` turns annotations into JSON Schema (draft 7, the dialect AsyncAPI 3 schemas extend),
collecting every named type (dataclass, TypedDict, enum, pydantic model, msgspec Struct) once in
``Schemas.defs`` and pointing at it with ``{"$ref": prefix + name}``. Binary values (``bytes``)
travel as Socket.IO attachments, not JSON: their schema is
``{"contentMediaType": "application/octet-stream"}``.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from . import libs
from .hints import strip, typeddict_required

__all__ = ["BINARY", "Schemas"]

#: The schema of a binary attachment.
BINARY: dict[str, Any] = {"contentMediaType": "application/octet-stream"}
_SIMPLE: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    None: {"type": "null"},
    bytes: BINARY,
    Any: {},
    object: {},
}


class Schemas:
    """Builds JSON Schemas and keeps the named ones in `defs`.

    Args:
        prefix: what a ``$ref`` to a named schema starts with (``"#/components/schemas/"``
            for AsyncAPI).
    """

    def __init__(self, prefix: str = "#/$defs/") -> None:
        self.prefix = prefix
        #: the named schemas, by name
        self.defs: dict[str, dict[str, Any]] = {}
        self._names: dict[Any, str] = {}

    def of(self, tp: Any) -> dict[str, Any]:
        """The schema of values annotated ``tp`` (a ``$ref`` for a named type)."""
        tp = strip(tp)
        try:
            simple = _SIMPLE.get(tp)
        except TypeError:
            simple = None
        if simple is not None:
            return dict(simple)
        if isinstance(tp, type) and tp in self._names:
            return self._ref(self._names[tp])
        if libs.is_pydantic_model(tp):
            return self._pydantic(tp)
        if libs.is_msgspec_struct(tp):
            return self._msgspec(tp)
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            fields = [f for f in dataclasses.fields(tp) if f.init]
            required = [
                f.name
                for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            ]
            return self._record(tp, [f.name for f in fields], required)
        if typing.is_typeddict(tp):
            hints = typing.get_type_hints(tp, include_extras=True)
            return self._record(tp, list(hints), list(typeddict_required(tp, hints)))
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            name = self._name(tp)
            self.defs[name] = {"title": tp.__name__, "enum": [m.value for m in tp]}
            return self._ref(name)
        return self._generic(tp)

    def _ref(self, name: str) -> dict[str, Any]:
        return {"$ref": self.prefix + name}

    def _name(self, tp: Any) -> str:
        base = name = str(tp.__name__)
        taken = set(self._names.values()) | set(self.defs)
        suffix = 2
        while name in taken:
            name, suffix = f"{base}{suffix}", suffix + 1
        self._names[tp] = name
        return name

    def _record(self, tp: Any, keys: list[str], required: list[str]) -> dict[str, Any]:
        name = self._name(tp)
        self.defs[name] = {}  # claimed before the fields: a field may refer back to it
        hints = typing.get_type_hints(tp, include_extras=True)
        schema: dict[str, Any] = {
            "title": tp.__name__,
            "type": "object",
            "properties": {key: self.of(hints.get(key, Any)) for key in keys},
        }
        if required:
            schema["required"] = required
        doc = getattr(tp, "__doc__", None)
        if doc and not doc.startswith(f"{tp.__name__}("):  # not the dataclass default
            schema["description"] = doc.strip()
        self.defs[name] = schema
        return self._ref(name)

    def _pydantic(self, tp: Any) -> dict[str, Any]:
        name = self._name(tp)
        schema = dict(tp.model_json_schema(ref_template=self.prefix + "{model}"))
        self.defs.update(schema.pop("$defs", {}))
        self.defs[name] = schema
        return self._ref(name)

    def _msgspec(self, tp: Any) -> dict[str, Any]:
        name = self._name(tp)
        module = libs.msgspec()
        (ref,), components = module.json.schema_components(
            [tp], ref_template=self.prefix + "{name}"
        )
        self.defs.update(components)
        if ref.get("$ref") != self.prefix + name:  # msgspec named it: keep its name
            self._names[tp] = ref["$ref"].removeprefix(self.prefix)
        return dict(ref)

    def _generic(self, tp: Any) -> dict[str, Any]:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is typing.Literal:
            return {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
        if origin is typing.Union or origin is types.UnionType:
            return {"anyOf": [self.of(a) for a in args]}
        if tp in (list, set, frozenset, tuple):
            return {"type": "array"}
        if tp is dict:
            return {"type": "object"}
        if origin in (list, set, frozenset, Sequence):
            schema: dict[str, Any] = {"type": "array", "items": self.of(args[0])}
            if origin is not list and origin is not Sequence:
                schema["uniqueItems"] = True
            return schema
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"type": "array", "items": self.of(args[0])}
            return self.arguments([self.of(a) for a in args])
        if origin in (dict, Mapping):
            return {"type": "object", "additionalProperties": self.of(args[1])}
        raise TypeError(f"siox.typed has no JSON Schema for {tp!r}")

    @staticmethod
    def arguments(items: list[dict[str, Any]], optional: int = 0) -> dict[str, Any]:
        """The schema of a fixed-length array (event arguments): draft 7's tuple form.

        ``optional`` trailing items may be left out (parameters with a default).
        """
        return {
            "type": "array",
            "items": items,
            "minItems": len(items) - optional,
            "maxItems": len(items),
        }
