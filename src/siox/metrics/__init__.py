"""Prometheus metrics for a siox server (the ``siox[metrics]`` extra: prometheus-client).

``sio.instrument_metrics()`` (or `instrument_metrics`) starts counting and, on the native
server, serves ``/metrics``; `SioxMetrics.asgi_app` is the same endpoint for any ASGI server.
See docs/metrics.md for the metric names.
"""

from __future__ import annotations

from .instrument import SioxMetrics, instrument_metrics

__all__ = ["SioxMetrics", "instrument_metrics"]
