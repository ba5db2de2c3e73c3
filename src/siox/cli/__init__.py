"""The ``siox`` command: ``siox serve module:app``, ``siox client URL``, ``siox --version``.

Modules: `siox.cli.serve` (loading and running an application), `siox.cli.reload` (the
``--reload`` supervisor), `siox.cli.commands` (the client's command language and output) and
`siox.cli.client` (the interactive / piped client) with `siox.cli.terminal` (its input and
output). This module only parses arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._version import __version__

__all__ = ["build_parser", "main"]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``siox`` command."""
    parser = argparse.ArgumentParser(
        prog="siox", description="Socket.IO for Python: run a server, or talk to one."
    )
    parser.add_argument("--version", action="version", version=f"siox {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="serve an application with the native server",
        description="Serve module:app, a siox.Server, a siox.EngineServer, or a callable "
        "returning one, with the native server until Ctrl-C.",
    )
    serve.add_argument("app", metavar="MODULE:APP", help="e.g. chat.app:sio or app:make_server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=3000, help="TCP port (3000)")
    serve.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="(info)")
    serve.add_argument(
        "--reload", action="store_true", help="restart when a .py file under the app changes"
    )
    serve.add_argument("--workers", type=int, default=1, help="server processes (1)")
    serve.add_argument("--app-dir", default=".", help="folder put first on sys.path (.)")

    client = commands.add_parser(
        "client",
        help="an interactive client (one JSON command per line on a pipe)",
        description="Connect to a Socket.IO server and emit, wait for acks, and print every "
        "event received. Type 'help' at the prompt; on a pipe, send one JSON command per "
        'line, e.g. {"emit": ["chat", "hi"]}.',
    )
    client.add_argument("url", help="the server URL, e.g. http://127.0.0.1:3000")
    client.add_argument("--namespace", default=None, help="the namespace to join (/)")
    client.add_argument("--auth", default=None, metavar="JSON", help="the CONNECT payload")
    client.add_argument(
        "--transport", choices=("polling", "websocket"), default=None, help="only this one"
    )
    client.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to connect and for acks (10)"
    )
    client.add_argument("--path", default="/socket.io/", help="the endpoint path (/socket.io/)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``siox`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        from .serve import serve_command

        return serve_command(args)
    if args.command == "client":
        from .client import client_command

        return client_command(args)
    parser.print_help(sys.stderr)
    return 2
