"""The seam between the server and `siox.typed`: typed handlers reporting to the error hook.

`siox.typed` is imported only when a server turns ``validate_events`` on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .runner import ErrorContext

if TYPE_CHECKING:
    from .namespace import Handler
    from .server import Server

__all__ = ["typed_wrapper"]

logger = logging.getLogger("siox.typed")


def typed_wrapper(server: Server) -> Callable[[str, Handler], Handler]:
    """The ``wrap(event, handler)`` of ``server``'s namespaces when it validates events."""
    from ..typed.wrap import typed_handler

    def report(exc: BaseException, socket: Any, event: str) -> None:
        logger.warning("refused from socket %s: %s", socket.id, exc)
        context = ErrorContext(event=event, namespace=socket.nsp, socket_id=socket.id)
        server.report_error(exc, context)

    def wrap(event: str, handler: Any) -> Any:
        return typed_handler(handler, event, report)

    return wrap
