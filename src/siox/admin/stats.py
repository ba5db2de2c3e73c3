"""The counters behind ``server_stats``: what happened, per second, since the last report.

The reference's ``EventBuffer``: each count is keyed by the second it happened in, its type
(``rawConnection``, ``rawDisconnection``, ``packetsIn``/``packetsOut``,
``bytesIn``/``bytesOut``) and a sub-type (the disconnection reason); a report takes them all
and starts afresh. The UI draws its histograms from these.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["EventBuffer"]


class EventBuffer:
    """Counts per (second, type, sub-type), taken and cleared by each report."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[tuple[int, str, str | None], int] = {}

    def push(self, kind: str, sub_type: str | None = None, count: int = 1) -> None:
        """Count ``count`` of ``kind`` now."""
        key = (int(time.time()) * 1000, kind, sub_type)
        self._counts[key] = self._counts.get(key, 0) + count

    def take(self) -> list[dict[str, Any]]:
        """Every count since the last call (``{timestamp, type, subType?, count}``)."""
        counts, self._counts = self._counts, {}
        values: list[dict[str, Any]] = []
        for (timestamp, kind, sub_type), count in counts.items():
            value: dict[str, Any] = {"timestamp": timestamp, "type": kind, "count": count}
            if sub_type is not None:
                value["subType"] = sub_type
            values.append(value)
        return values
