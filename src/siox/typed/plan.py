"""The plan of one event handler: what its parameters after ``socket`` and its result are.

`EventPlan.of(handler)` reads the handler's signature and type hints once; its `validate` then
converts a list of event arguments with the checks built from them (no introspection per call).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .convert import INVALID, Check, Errors, validator
from .encode import encode

__all__ = ["NO_ANNOTATION", "EventPlan", "InvalidPayload", "Param"]

#: The annotation of a parameter (or result) that has none.
NO_ANNOTATION: Any = inspect.Parameter.empty
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


class InvalidPayload(ValueError):
    """The arguments of an event do not match its handler's annotations.

    Attributes:
        event: the event name.
        details: one ``{"loc": [argument index, key or index...], "message": ...}`` per problem
            (at most `siox.typed.convert.MAX_ERRORS`).
    """

    def __init__(self, event: str, details: Errors) -> None:
        self.event = event
        self.details = details
        first = details[0] if details else {"loc": [], "message": "invalid"}
        where = ".".join(str(part) for part in first["loc"])
        more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        super().__init__(f"invalid payload for {event!r}: {where}: {first['message']}{more}")


def _hints(handler: Any, target: Any, socket: str | None) -> dict[str, Any]:
    """The resolved annotations of ``target``, the socket's left out if it cannot be.

    The socket's annotation is never used, and is often a name imported only under
    ``TYPE_CHECKING``.
    """
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:
        pass
    globalns = getattr(inspect.unwrap(target), "__globals__", {})
    hints = {}
    for name, annotation in inspect.get_annotations(target).items():
        if name == socket:
            continue
        try:
            hints[name] = eval(annotation, globalns) if isinstance(annotation, str) else annotation
        except Exception as exc:
            raise TypeError(
                f"the annotation {annotation!r} of {handler!r} cannot be resolved ({exc}): "
                "the types a typed handler names must be importable from its module"
            ) from exc
    return hints


@dataclass(frozen=True)
class Param:
    """One parameter of a handler after ``socket``."""

    name: str
    annotation: Any
    required: bool
    variadic: bool = False


@dataclass(frozen=True)
class EventPlan:
    """How to check the arguments of one handler and encode its result.

    Attributes:
        params: the parameters after ``socket`` (a ``*args`` one last, ``variadic``).
        returns: the return annotation (`NO_ANNOTATION` when none).
        checks: one check per parameter, in order.
    """

    params: tuple[Param, ...]
    returns: Any
    checks: tuple[Check, ...]
    _variadic: bool = field(init=False)
    _fixed: int = field(init=False)
    _required: int = field(init=False)

    def __post_init__(self) -> None:
        variadic = bool(self.params) and self.params[-1].variadic
        object.__setattr__(self, "_variadic", variadic)
        object.__setattr__(self, "_fixed", len(self.params) - variadic)
        object.__setattr__(self, "_required", sum(1 for p in self.params if p.required))

    @classmethod
    def of(cls, handler: Callable[..., Any], *, build: bool = True) -> EventPlan:
        """The plan of ``handler(socket, ...)``; ``build=False`` skips building the checks.

        Raises:
            TypeError: an annotation cannot be resolved, or is of a type siox cannot validate.
        """
        target = handler if inspect.isroutine(handler) else type(handler).__call__
        signature = inspect.signature(handler)
        hints = _hints(handler, target, next(iter(signature.parameters), None))
        params = []
        for index, parameter in enumerate(signature.parameters.values()):
            if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                hint = hints.get(parameter.name, NO_ANNOTATION)
                params.append(Param(parameter.name, hint, required=False, variadic=True))
            elif parameter.kind in _POSITIONAL and index > 0:
                hint = hints.get(parameter.name, NO_ANNOTATION)
                required = parameter.default is inspect.Parameter.empty
                params.append(Param(parameter.name, hint, required))
        checks = tuple(
            validator(Any if p.annotation is NO_ANNOTATION else p.annotation)
            for p in (params if build else ())
        )
        return cls(tuple(params), hints.get("return", NO_ANNOTATION), checks)

    @property
    def typed(self) -> bool:
        """Whether any parameter or the result is annotated (else there is nothing to do)."""
        return self.returns is not NO_ANNOTATION or any(
            p.annotation is not NO_ANNOTATION for p in self.params
        )

    @property
    def acks(self) -> bool:
        """Whether the handler answers with a value (its result is annotated and not None)."""
        return self.returns not in (NO_ANNOTATION, None, type(None))

    def validate(self, event: str, args: tuple[Any, ...]) -> list[Any]:
        """``args`` converted to the parameters' types.

        Raises:
            InvalidPayload: an argument does not fit, one is missing, or there are too many.
        """
        errors: Errors = []
        out = []
        checks, fixed = self.checks, self._fixed
        given = len(args)
        if given > fixed and not self._variadic:
            errors.append({"loc": [fixed], "message": f"unexpected argument (takes {fixed})"})
            raise InvalidPayload(event, errors)
        for index, value in enumerate(args):
            start = len(errors)
            converted = checks[index if index < fixed else fixed](value, errors)
            if converted is INVALID:
                for error in errors[start:]:
                    error["loc"].insert(0, index)
            out.append(converted)
        for index in range(given, self._required):
            name = self.params[index].name
            errors.append({"loc": [index], "message": f"missing argument {name!r}"})
        if errors:
            raise InvalidPayload(event, errors)
        return out

    def encode(self, result: Any) -> Any:
        """The handler's result as JSON-ready values (see `siox.typed.encode`)."""
        return encode(result)
