"""A tiny static file map for the native server (the demo page, a client bundle).

Only the files named in the map are served; nothing is looked up on disk from URL text, so
path tricks (``..``, encoded slashes, case games) cannot reach anything else.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path

from .http_types import HttpResponse

__all__ = ["StaticFiles"]


class StaticFiles:
    """Serve the files of ``files`` (URL path -> file path), read once at start."""

    def __init__(self, files: Mapping[str, str | Path]) -> None:
        self._responses: dict[str, HttpResponse] = {}
        for url, location in files.items():
            path = Path(location)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if content_type.startswith("text/") or content_type.endswith("javascript"):
                content_type += "; charset=utf-8"
            self._responses[url] = HttpResponse(
                200, [("Content-Type", content_type)], path.read_bytes()
            )

    def lookup(self, path: str) -> HttpResponse | None:
        """The response for ``path``, or None."""
        found = self._responses.get(path)
        if found is None:
            return None
        return HttpResponse(found.status, list(found.headers), found.body)
