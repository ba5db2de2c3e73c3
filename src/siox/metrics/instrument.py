"""`instrument_metrics`: count what a server does, and serve it to Prometheus."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)

from ..server.http_types import HttpRequest, HttpResponse
from .observer import MetricsObserver, ServerCollector

if TYPE_CHECKING:
    from ..server.server import Server

__all__ = ["SioxMetrics", "instrument_metrics"]


class SioxMetrics:
    """A server's metrics (what `instrument_metrics` returns).

    Attributes:
        registry: the prometheus-client registry holding them.
        observer: the `MetricsObserver` the server feeds.
        path: the native server's endpoint, or None.
    """

    def __init__(
        self,
        sio: Server,
        *,
        path: str | None,
        registry: CollectorRegistry,
        prefix: str,
        max_namespaces: int,
    ) -> None:
        self.sio = sio
        self.registry = registry
        self.path = path
        self.observer = MetricsObserver(sio, registry, prefix=prefix, max_namespaces=max_namespaces)
        registry.register(ServerCollector(sio, self.observer, prefix))
        for namespace in list(sio.namespaces.values()):
            self.observer.watch_namespace(namespace)
        sio.on("new_namespace", self.observer.watch_namespace)
        sio.add_observer(self.observer)
        if path is not None:
            sio.engine.routes[path] = self.respond

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)

    def respond(self, request: HttpRequest) -> HttpResponse:
        """The endpoint's answer (GET and HEAD; anything else is 405)."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(405, [("Allow", "GET, HEAD")], b"")
        body = self.exposition()
        return HttpResponse(200, [("Content-Type", CONTENT_TYPE_LATEST)], body)

    def asgi_app(self, path: str | None = None) -> Any:
        """An ASGI app serving these metrics.

        Args:
            path: the one path it answers (404 elsewhere), for ``siox.ASGIApp``'s
                ``other_asgi_app``; None answers every path (to mount it in a framework).

        It completes lifespan events (so it can be the app an ASGI server runs) and answers
        ``GET``/``HEAD`` only.
        """
        return _MetricsApp(self, path)


class _MetricsApp:
    def __init__(self, metrics: SioxMetrics, path: str | None) -> None:
        self.metrics = metrics
        self.path = path

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        if kind != "http":
            return
        if self.path is not None and scope.get("path") != self.path:
            status, headers, body = 404, [(b"content-type", b"text/plain")], b"Not Found"
        elif scope.get("method") not in ("GET", "HEAD"):
            status, headers, body = 405, [(b"allow", b"GET, HEAD")], b""
        else:
            status, body = 200, self.metrics.exposition()
            headers = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )


def instrument_metrics(
    sio: Server,
    *,
    path: str | None = "/metrics",
    registry: CollectorRegistry | None = None,
    prefix: str = "siox",
    max_namespaces: int = 100,
) -> SioxMetrics:
    """Count what ``sio`` does in Prometheus metrics.

    Args:
        sio: the server.
        path: where the native server (``siox.run``/``siox.serve``) serves the metrics; None
            for no endpoint (under ASGI, mount `SioxMetrics.asgi_app` instead).
        registry: the prometheus-client registry (the default one, ``REGISTRY``, when None;
            give each server its own when one process runs several).
        prefix: the metric name prefix.
        max_namespaces: distinct namespace labels before further ones count as ``"other"``.

    Returns:
        The `SioxMetrics`.
    """
    return SioxMetrics(
        sio,
        path=path,
        registry=REGISTRY if registry is None else registry,
        prefix=prefix,
        max_namespaces=max_namespaces,
    )
