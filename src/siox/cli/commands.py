"""The client's command language (typed at the prompt, or one JSON object a line) and output.

At the prompt: ``emit EVENT [ARG ...]``, ``ack EVENT [ARG ...]`` (emit and wait for the
acknowledgement), ``wait EVENT [SECONDS]`` (the oldest EVENT received and not waited for
yet), ``namespace NAME``, ``timeout SECONDS``, ``listen on|off``, ``sleep SECONDS``,
``status``, ``help``, ``quit``. Each ARG is a JSON value (``1``, ``"two words"``,
``{"a": [1]}``); a bare word that is not JSON is taken as a string.

On a pipe (or at the prompt, for a line starting with ``{``), one JSON object a line:
``{"emit": ["ev", 1, 2]}``, ``{"ack": ["ev", 1], "timeout": 5}``, ``{"wait": "ev", "timeout":
5}``, ``{"namespace": "/chat"}``, ``{"sleep": 0.5}``, ``{"listen": false}``, ``{"status":
true}``, ``{"quit": true}``. Every output record is one JSON object a line with a ``type``;
binary values are written as ``{"$binary": "<base64>"}``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "HELP",
    "Command",
    "CommandError",
    "parse_json_command",
    "parse_text_command",
    "parse_values",
    "render_json",
    "render_text",
]

HELP = """\
commands (ARGs are JSON values; a bare word is a string):
  emit EVENT [ARG ...]      send an event
  ack EVENT [ARG ...]       send an event and wait for its ack (see: timeout)
  wait EVENT [SECONDS]      wait for an EVENT (the oldest one not waited for yet)
  namespace NAME            leave this namespace and join NAME (alias: ns)
  timeout SECONDS           how long ack and wait wait by default
  listen on|off             print (or not) every event received
  sleep SECONDS             pause
  status                    the connection's state
  help                      this text
  quit                      disconnect and exit (or Ctrl-D)
  {"emit": ["ev", 1]}       any JSON command, as on a pipe"""

_KINDS = ("emit", "ack", "wait", "namespace", "sleep", "listen", "status", "help", "quit")


class CommandError(ValueError):
    """A command that cannot be understood (the message says why)."""


@dataclass
class Command:
    """One parsed command."""

    kind: str
    event: str = ""
    args: list[Any] = field(default_factory=list)
    timeout: float | None = None
    namespace: str = ""
    seconds: float = 0.0
    flag: bool = True


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise CommandError(f"{what} must be a number of seconds >= 0, not {value!r}")
    return float(value)


def _event_and_args(value: Any, kind: str) -> tuple[str, list[Any]]:
    if not isinstance(value, list) or not value or not isinstance(value[0], str):
        raise CommandError(f'"{kind}" takes a list whose first item is the event name')
    return value[0], value[1:]


def parse_json_command(line: str) -> Command:
    """Parse a JSON command object.

    Raises:
        CommandError: not JSON, not an object, or not one of the commands.
    """
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise CommandError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError('a command is a JSON object, e.g. {"emit": ["ev", 1]}')
    kinds = [key for key in data if key in _KINDS]
    unknown = [key for key in data if key not in _KINDS and key != "timeout"]
    if len(kinds) != 1 or unknown:
        raise CommandError(f"one command of {', '.join(_KINDS)} (and an optional timeout)")
    kind = kinds[0]
    value = data[kind]
    timeout = None if data.get("timeout") is None else _seconds(data["timeout"], "timeout")
    if kind in ("emit", "ack"):
        event, args = _event_and_args(value, kind)
        return Command(kind, event=event, args=args, timeout=timeout)
    if kind == "wait":
        if not isinstance(value, str):
            raise CommandError('"wait" takes an event name')
        return Command(kind, event=value, timeout=timeout)
    if kind == "namespace":
        if not isinstance(value, str) or not value:
            raise CommandError('"namespace" takes a namespace name such as "/chat"')
        return Command(kind, namespace=value)
    if kind == "sleep":
        return Command(kind, seconds=_seconds(value, "sleep"))
    if kind == "listen":
        return Command(kind, flag=bool(value))
    return Command(kind)


def parse_values(text: str) -> list[Any]:
    """The JSON values of ``text``, one after another; a bare non-JSON word is a string."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    index, end = 0, len(text)
    while True:
        while index < end and text[index].isspace():
            index += 1
        if index >= end:
            return values
        try:
            value, stop = decoder.raw_decode(text, index)
        except ValueError:
            value, stop = None, index
        if stop == index or (stop < end and not text[stop].isspace()):
            if text[index] in '"[{':
                raise CommandError(f"invalid JSON at {text[index : index + 20]!r}")
            stop = index
            while stop < end and not text[stop].isspace():
                stop += 1
            value = text[index:stop]
        values.append(value)
        index = stop


def parse_text_command(line: str) -> Command | None:
    """Parse a line typed at the prompt (None for a blank line).

    Raises:
        CommandError: an unknown command or bad arguments.
    """
    line = line.strip()
    if not line:
        return None
    if line.startswith("{"):
        return parse_json_command(line)
    word, _, rest = line.partition(" ")
    word = word.lower()
    if word in ("emit", "ack"):
        values = parse_values(rest)
        if not values or not isinstance(values[0], str):
            raise CommandError(f"usage: {word} EVENT [ARG ...]")
        return Command(word, event=values[0], args=values[1:])
    if word == "wait":
        values = parse_values(rest)
        if not values or not isinstance(values[0], str) or len(values) > 2:
            raise CommandError("usage: wait EVENT [SECONDS]")
        timeout = _seconds(values[1], "the wait") if len(values) == 2 else None
        return Command(word, event=values[0], timeout=timeout)
    if word in ("namespace", "ns"):
        if not rest.strip() or " " in rest.strip():
            raise CommandError("usage: namespace NAME")
        return Command("namespace", namespace=rest.strip())
    if word in ("sleep", "timeout"):
        values = parse_values(rest)
        if len(values) != 1:
            raise CommandError(f"usage: {word} SECONDS")
        return Command(word, seconds=_seconds(values[0], word))
    if word == "listen":
        if rest.strip() not in ("on", "off"):
            raise CommandError("usage: listen on|off")
        return Command(word, flag=rest.strip() == "on")
    if word in ("status", "help", "quit", "exit"):
        return Command("quit" if word == "exit" else word)
    raise CommandError(f"unknown command {word!r} (type help)")


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$binary": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def render_json(record: dict[str, Any]) -> str:
    """One output record as a JSON line."""
    return json.dumps(_plain(record), ensure_ascii=False, default=repr)


def _values(args: list[Any]) -> str:
    return " ".join(json.dumps(_plain(a), ensure_ascii=False, default=repr) for a in args)


def render_text(record: dict[str, Any]) -> str:
    """One output record for a person."""
    kind = record["type"]
    nsp = record.get("namespace", "/")
    if kind == "event":
        return f"<- [{nsp}] {record['event']} {_values(record['args'])}".rstrip()
    if kind == "ack":
        return f"ack {record['event']}: {_values(record['args'])}".rstrip()
    if kind == "emitted":
        return f"-> [{nsp}] {record['event']}"
    if kind == "connect":
        return f"connected to {nsp} (id {record['id']}, {record.get('transport')})"
    if kind == "disconnect":
        return f"disconnected from {nsp}: {record['reason']}"
    if kind == "error":
        return f"error: {record['message']}"
    if kind == "help":
        return str(record["text"])
    details = ", ".join(f"{k}={v}" for k, v in record.items() if k != "type")
    return f"{kind}: {details}" if details else kind
