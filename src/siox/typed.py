"""Typed events: handler arguments validated and converted from the handler's annotations.

``siox.typed.validate_events(sio)`` makes every event handler of ``sio`` (registered before or
after, on every namespace) check its arguments against its parameters' annotations before it
runs, and turn them into the annotated types:

* ``str``, ``int``, ``float`` (an int is accepted), ``bool``, ``bytes``, ``None``, ``Any``;
* ``list[T]``, ``tuple[T, ...]``, ``tuple[A, B]``, ``dict[str, T]``, unions and ``Optional``,
  ``Literal[...]``;
* dataclasses and ``TypedDict``s (from a JSON object: every required field, no unknown one);
* pydantic models (``model_validate``) and msgspec Structs (``msgspec.convert``), when those
  libraries are installed (none is required).

Invalid input never reaches the handler: the failure (a `InvalidArguments`, naming each
wrong argument by its path) is logged and reported to the server's error hook like any
handler error, and the client gets, when it asked for an ack, the documented error value
``{"error": "invalid arguments", "details": [...]}``. A handler's return value (its ack) is
encoded from the same types: dataclasses, pydantic models and msgspec Structs become JSON
objects. Parameters without annotation take anything; surplus arguments are an error unless
the handler takes ``*args``. ``connect``, ``disconnect`` and ``disconnecting`` handlers are
left alone.

Annotations are resolved with `typing.get_type_hints`: the types they name must be importable
from the handler's module (not local to a function).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin, is_typeddict

from .errors import SioxError
from .server.runner import ErrorContext

if TYPE_CHECKING:
    from .server.namespace import Handler, Namespace
    from .server.server import Server
    from .server.socket import Socket

__all__ = ["INVALID_ARGUMENTS", "InvalidArguments", "convert", "encode", "validate_events"]

logger = logging.getLogger("siox")

#: The ``error`` of the ack a client gets when its arguments were refused.
INVALID_ARGUMENTS = "invalid arguments"
_MAX_ERRORS = 20


class InvalidArguments(SioxError, ValueError):
    """An event's arguments do not match its handler's annotations.

    Attributes:
        event: the event name.
        details: one message per wrong value, each starting with its path (``arg 1.name``).
    """

    def __init__(self, event: str, details: list[str]) -> None:
        super().__init__(f"invalid arguments for {event!r}: " + "; ".join(details))
        self.event = event
        self.details = details


def _error_value(exc: InvalidArguments) -> dict[str, Any]:
    return {"error": INVALID_ARGUMENTS, "details": exc.details}


# -- conversion ------------------------------------------------------------------------------------


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def _pydantic_model(tp: Any) -> bool:
    base = getattr(__import__("sys").modules.get("pydantic"), "BaseModel", None)
    return base is not None and isinstance(tp, type) and issubclass(tp, base)


def _msgspec_struct(tp: Any) -> bool:
    module = __import__("sys").modules.get("msgspec")
    return module is not None and isinstance(tp, type) and issubclass(tp, module.Struct)


def convert(value: Any, tp: Any, path: str, errors: list[str]) -> Any:
    """``value`` as type ``tp``; each mismatch is appended to ``errors`` (prefixed by ``path``).

    Returns:
        The converted value (meaningless when ``errors`` grew).
    """
    if len(errors) >= _MAX_ERRORS:
        return value
    if tp is Any or tp is inspect.Parameter.empty or tp is object:
        return value
    if tp is None or tp is type(None):
        if value is not None:
            errors.append(f"{path}: expected null")
        return value
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return convert(value, get_args(tp)[0], path, errors)
    if origin is Union or origin is types.UnionType:
        for option in get_args(tp):
            attempt: list[str] = []
            converted = convert(value, option, path, attempt)
            if not attempt:
                return converted
        names = " | ".join(_type_name(option) for option in get_args(tp))
        errors.append(f"{path}: expected {names}")
        return value
    if origin is Literal:
        if value not in get_args(tp) or (type(value) is bool and True not in get_args(tp)):
            errors.append(f"{path}: expected one of {list(get_args(tp))!r}")
        return value
    if origin in (list, tuple, dict) or tp in (list, tuple, dict):
        return _convert_container(value, tp, origin or tp, path, errors)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(f"{path}: expected a number")
            return value
        return float(value)
    if tp is int or tp is str or tp is bool or tp is bytes:
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            errors.append(f"{path}: expected {tp.__name__}")
        return value
    if is_typeddict(tp):
        return _convert_fields(value, tp, path, errors, typed_dict=True)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _convert_fields(value, tp, path, errors, typed_dict=False)
    if _pydantic_model(tp):
        return _convert_pydantic(value, tp, path, errors)
    if _msgspec_struct(tp):
        return _convert_msgspec(value, tp, path, errors)
    if isinstance(tp, type):
        if not isinstance(value, tp):
            errors.append(f"{path}: expected {tp.__name__}")
        return value
    return value  # a typing construct this module does not check: taken as it is


def _convert_container(value: Any, tp: Any, kind: Any, path: str, errors: list[str]) -> Any:
    args = get_args(tp)
    if kind is dict:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object")
            return value
        value_type = args[1] if len(args) == 2 else Any
        return {k: convert(v, value_type, f"{path}.{k}", errors) for k, v in value.items()}
    if not isinstance(value, list | tuple):
        errors.append(f"{path}: expected an array")
        return value
    if kind is list:
        item = args[0] if args else Any
        return [convert(v, item, f"{path}[{i}]", errors) for i, v in enumerate(value)]
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(convert(v, args[0], f"{path}[{i}]", errors) for i, v in enumerate(value))
    if args:
        if len(args) != len(value):
            errors.append(f"{path}: expected {len(args)} items, got {len(value)}")
            return value
        return tuple(
            convert(v, t, f"{path}[{i}]", errors)
            for i, (v, t) in enumerate(zip(value, args, strict=True))
        )
    return tuple(value)


@functools.cache
def _hints(tp: Any) -> dict[str, Any]:
    return typing.get_type_hints(tp)


@functools.cache
def _required_keys(tp: Any) -> frozenset[str]:
    # ``__required_keys__`` misses ``NotRequired[...]`` written as a string annotation (PEP 563
    # modules): read the markers from the resolved hints.
    required = set(tp.__required_keys__)
    for key, hint in typing.get_type_hints(tp, include_extras=True).items():
        if get_origin(hint) is typing.NotRequired:
            required.discard(key)
        elif get_origin(hint) is typing.Required:
            required.add(key)
    return frozenset(required)


def _convert_fields(value: Any, tp: Any, path: str, errors: list[str], *, typed_dict: bool) -> Any:
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({_type_name(tp)})")
        return value
    hints = _hints(tp)
    if typed_dict:
        required = set(_required_keys(tp))
        known = set(hints)
    else:
        fields = [f for f in dataclasses.fields(tp) if f.init]
        known = {f.name for f in fields}
        required = {
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
    errors.extend(f"{path}.{key}: missing" for key in sorted(required - value.keys()))
    errors.extend(f"{path}.{key}: unknown field" for key in sorted(value.keys() - known))
    converted = {
        k: convert(v, hints.get(k, Any), f"{path}.{k}", errors)
        for k, v in value.items()
        if k in known
    }
    if typed_dict or errors:
        return converted
    return tp(**converted)


def _convert_pydantic(value: Any, tp: Any, path: str, errors: list[str]) -> Any:
    import pydantic

    try:
        return tp.model_validate(value)
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            errors.append(f"{path}{'.' + where if where else ''}: {error['msg']}")
        return value


def _convert_msgspec(value: Any, tp: Any, path: str, errors: list[str]) -> Any:
    import msgspec

    try:
        return msgspec.convert(value, tp)
    except msgspec.ValidationError as exc:
        errors.append(f"{path}: {exc}")
        return value


def encode(value: Any) -> Any:
    """A return value as the ack carries it: dataclasses, models and Structs as objects."""
    if value is None or isinstance(value, str | int | float | bool | bytes):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if _pydantic_model(type(value)):
        return value.model_dump(mode="json")
    if _msgspec_struct(type(value)):
        import msgspec

        return msgspec.to_builtins(value)
    if isinstance(value, Mapping):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return (
            type(value)(encode(v) for v in value)
            if isinstance(value, tuple)
            else [encode(v) for v in value]
        )
    return value


# -- handlers --------------------------------------------------------------------------------------


class _Signature:
    """What a handler's parameters (after the socket) expect."""

    def __init__(self, func: Callable[..., Any]) -> None:
        parameters = list(inspect.signature(func).parameters.values())[1:]
        hints = typing.get_type_hints(func)
        self.positional = [
            (p.name, hints.get(p.name, Any), p.default is inspect.Parameter.empty)
            for p in parameters
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        var = [p for p in parameters if p.kind is p.VAR_POSITIONAL]
        self.rest = hints.get(var[0].name, Any) if var else None
        self.returns = hints.get("return", Any)

    def convert(self, event: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
        errors: list[str] = []
        out = []
        for i, value in enumerate(args):
            if i < len(self.positional):
                name, tp, _ = self.positional[i]
                out.append(convert(value, tp, f"arg {i + 1} ({name})", errors))
            elif self.rest is not None:
                out.append(convert(value, self.rest, f"arg {i + 1}", errors))
            else:
                errors.append(f"arg {i + 1}: unexpected (the handler takes {len(self.positional)})")
                break
        for name, _, required in self.positional[len(args) :]:
            if required:
                errors.append(f"{name}: missing")
        if errors:
            raise InvalidArguments(event, errors)
        return tuple(out)


def _wrap(sio: Server, event: str, handler: Handler) -> Handler:
    inner = getattr(handler, "_siox_once", handler)
    signature = _Signature(inner)

    def refuse(socket: Socket, exc: InvalidArguments) -> dict[str, Any]:
        logger.info("%s", exc)
        sio.report_error(exc, ErrorContext(event=event, namespace=socket.nsp, socket_id=socket.id))
        return _error_value(exc)

    async def finish(result: Any) -> Any:
        return encode(await result)

    def checked(socket: Socket, *args: Any) -> Any:
        try:
            converted = signature.convert(event, args)
        except InvalidArguments as exc:
            return refuse(socket, exc)
        result = handler(socket, *converted)
        if inspect.isawaitable(result):
            return finish(result)
        return encode(result)

    async def checked_async(socket: Socket, *args: Any) -> Any:
        try:
            converted = signature.convert(event, args)
        except InvalidArguments as exc:
            return refuse(socket, exc)
        return encode(await handler(socket, *converted))

    wrapper: Any = checked_async if inspect.iscoroutinefunction(handler) else checked
    functools.update_wrapper(wrapper, inner)
    wrapper._siox_once = inner  # what listeners() and off() compare
    wrapper._siox_typed = True
    return wrapper  # type: ignore[no-any-return]


def validate_events(sio: Server) -> None:
    """Validate the arguments of every event handler of ``sio`` from their annotations.

    Handlers already registered are wrapped now; later ones as they are registered, on every
    namespace (and dynamic namespace rule) of the server.

    Raises:
        NameError: an annotation names a type that cannot be resolved.
    """

    def wrap(event: str, handler: Handler) -> Handler:
        return _wrap(sio, event, handler)

    def install(namespace: Namespace) -> None:
        if namespace.handler_wrapper is not None:
            return
        namespace.handler_wrapper = wrap
        for event, handler in list(namespace.handlers.items()):
            # (the children of a dynamic rule share its handler table: wrapped once)
            reserved = event in ("connect", "disconnect", "disconnecting")
            if not reserved and not getattr(handler, "_siox_typed", False):
                namespace.handlers[event] = wrap(event, handler)

    for namespace in [*sio.namespaces.values(), *sio._dynamic]:  # the rules too
        install(namespace)
    sio.on("new_namespace", install)
