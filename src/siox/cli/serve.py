"""``siox serve module:app``: import an application and run it with the native server."""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import os
import sys
from typing import Any

from ..server.engine_server import EngineServer
from ..server.server import Server
from ..workers.launch import run

__all__ = ["AppError", "load_app", "serve_command"]

logger = logging.getLogger("siox")


class AppError(Exception):
    """An application that cannot be loaded or served (the message says why)."""


def _split(spec: str) -> tuple[str, str]:
    module, sep, attr = spec.partition(":")
    if not sep or not module or not attr:
        raise AppError(f"{spec!r}: expected MODULE:APP, e.g. chat:sio or myapp.main:make_server")
    return module, attr


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            raise AppError(
                f"cannot import {module!r} ({exc}); run from the folder that holds it, or "
                "give --app-dir"
            ) from exc
        raise


def load_app(spec: str, app_dir: str = ".") -> Server | EngineServer:
    """The server ``spec`` (``module:attr``) names: the object itself, or what it returns.

    Args:
        spec: ``module:attr``; ``attr`` may be dotted, and may name a `siox.Server`, a
            `siox.EngineServer`, or a callable (a factory) returning one.
        app_dir: a folder put first on ``sys.path`` before importing.

    Raises:
        AppError: a malformed spec, a module or attribute that does not exist, or something
            that is not a server.
    """
    module_name, attr = _split(spec)
    folder = os.path.abspath(app_dir)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    found: Any = _import(module_name)
    for part in attr.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise AppError(f"{spec!r}: {module_name!r} has no attribute {attr!r}") from None
    if not isinstance(found, Server | EngineServer) and callable(found):
        if inspect.iscoroutinefunction(found):
            raise AppError(f"{spec!r}: a factory must be a plain function, not async")
        try:
            inspect.signature(found).bind()
        except TypeError:
            raise AppError(f"{spec!r}: a factory is called with no arguments") from None
        except ValueError:  # no signature to read (a builtin): just call it
            pass
        found = found()
    if isinstance(found, Server | EngineServer):
        return found
    hint = " (an ASGI app runs under uvicorn or hypercorn)" if callable(found) else ""
    raise AppError(
        f"{spec!r} is a {type(found).__name__}, not a siox.Server, a siox.EngineServer or a "
        f"callable returning one{hint}"
    )


def configure_logging(level: str) -> None:
    """Log to stderr at ``level`` (a name such as ``"info"``)."""
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def run_options(workers: int) -> dict[str, Any]:
    """The keyword arguments for `siox.run` that depend on what this siox's run accepts.

    Raises:
        AppError: ``workers`` above 1 while `siox.run` has no ``workers`` parameter.
    """
    if workers < 1:
        raise AppError("--workers must be 1 or more")
    if workers == 1:
        return {}
    if "workers" not in inspect.signature(run).parameters:
        raise AppError("workers > 1 not supported yet: this siox's run() serves one process")
    return {"workers": workers}


def serve_command(args: argparse.Namespace) -> int:
    """``siox serve``: returns the exit status."""
    try:
        options = run_options(args.workers)
        if args.reload:
            from .reload import supervise

            return supervise(args)
        configure_logging(args.log_level)
        app = load_app(args.app, args.app_dir)
    except (AppError, OSError) as exc:
        print(f"siox serve: {exc}", file=sys.stderr)
        return 2
    if args.port:
        print(f"siox: serving {args.app} on http://{args.host}:{args.port}", flush=True)
    try:
        run(app, host=args.host, port=args.port, **options)
    except OSError as exc:  # the address is taken, or not ours to bind
        print(f"siox serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0
