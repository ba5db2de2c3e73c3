"""``python -m siox.typed.export_cli asyncapi|typescript module:app [-o FILE]``.

Loads the app the way ``uvicorn`` does (``module:attribute``, the attribute a `siox.Server`,
or an ASGI app wrapping one) and writes its AsyncAPI document (JSON) or its TypeScript
interfaces to ``FILE`` or standard output. `main` is what ``siox export`` calls.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from .asyncapi import asyncapi_document
from .typescript import typescript_interfaces

__all__ = ["load_server", "main"]


def load_server(spec: str) -> Any:
    """The server named by ``module:attribute`` (the module imported from the current folder).

    Raises:
        ValueError: ``spec`` is not ``module:attribute``, or names no siox server.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected module:attribute, got {spec!r}")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    for candidate in (target, getattr(target, "app", None), getattr(target, "server", None)):
        if candidate is not None and hasattr(candidate, "namespaces"):
            return candidate
    raise ValueError(f"{spec} is not a siox.Server (nor an app wrapping one)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siox export", description="Describe a siox app's events from its annotations."
    )
    parser.add_argument("format", choices=("asyncapi", "typescript"))
    parser.add_argument("app", help="module:attribute naming the siox.Server")
    parser.add_argument("-o", "--output", help="write to this file (default: standard output)")
    parser.add_argument("--title", default=None, help="AsyncAPI info.title (default: the app)")
    parser.add_argument("--version", default="1.0.0", help="AsyncAPI info.version")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the export; returns the exit status (2 for a bad app reference or annotation)."""
    args = _parser().parse_args(argv)
    try:
        server = load_server(args.app)
        if args.format == "asyncapi":
            document = asyncapi_document(server, title=args.title or args.app, version=args.version)
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        else:
            text = typescript_interfaces(server)
    except (ImportError, AttributeError, ValueError, TypeError) as exc:
        print(f"siox export: {exc}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
