"""The official socket.io-client bundle, served under the endpoint path (``serve_client``).

As the JavaScript server does, ``/socket.io/socket.io.js`` (and ``.min.js``, ``.esm.min.js``,
``.msgpack.min.js`` and each one's ``.map``) are answered from the files of the npm package
``socket.io-client`` (its ``dist`` folder), with ``ETag: "<client version>"``, ``Cache-Control:
public, max-age=0`` and a bodyless 304 when ``If-None-Match`` names that tag (weak or strong).
Bodies are gzip- or deflate-compressed when the request accepts it (brotli, which the reference
also offers, is not in the standard library). No bundle ships with siox: the folder is the one
configured, or ``node_modules/socket.io-client/dist`` found by walking up from the current
directory and from the application's directory; when none is found, building the server fails
with a message saying how to install it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .cors import CorsPolicy
from .http_types import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from .engine_server import EngineServer

__all__ = ["CLIENT_FILES", "ClientBundle", "client_bundle_for", "find_bundle_dir"]

#: The files the reference serves (its ``CLIENT_FILES``); the first three must exist.
CLIENT_FILES = (
    "socket.io.js",
    "socket.io.min.js",
    "socket.io.esm.min.js",
    "socket.io.msgpack.min.js",
    "socket.io.js.map",
    "socket.io.min.js.map",
    "socket.io.esm.min.js.map",
    "socket.io.msgpack.min.js.map",
)
_REQUIRED = CLIENT_FILES[:3]
_VERSION_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-_")
_PACKAGE_DIST = Path("node_modules") / "socket.io-client" / "dist"
_INSTALL_HINT = (
    "install the official client next to the application (npm install socket.io-client@4), "
    "pass client_bundle_dir= the folder holding socket.io.min.js, or serve_client=False"
)


def _is_bundle(directory: Path) -> bool:
    return all((directory / name).is_file() for name in _REQUIRED)


def find_bundle_dir(configured: str | Path | None, search_from: Iterable[Path]) -> Path:
    """The folder holding the client bundle.

    Args:
        configured: a folder given by the application: the package's ``dist`` folder or the
            package folder itself (None: search).
        search_from: folders whose ancestors are searched for
            ``node_modules/socket.io-client/dist``, in order.

    Raises:
        FileNotFoundError: no bundle there (the message says where it looked and what to do).
    """
    if configured is not None:
        folder = Path(configured).expanduser().resolve()
        for candidate in (folder, folder / "dist"):
            if _is_bundle(candidate):
                return candidate
        raise FileNotFoundError(
            f"serve_client: no socket.io-client bundle in {str(folder)!r} (client_bundle_dir; "
            f"expected {', '.join(_REQUIRED)}): {_INSTALL_HINT}"
        )
    looked: list[str] = []
    for start in search_from:
        for folder in (start, *start.parents):
            candidate = folder / _PACKAGE_DIST
            if str(candidate) in looked:
                break
            looked.append(str(candidate))
            if _is_bundle(candidate):
                return candidate
    where = "; ".join(looked[:6]) + (" ..." if len(looked) > 6 else "")
    raise FileNotFoundError(
        f"serve_client: socket.io-client was not found in node_modules (looked in {where}): "
        f"{_INSTALL_HINT}"
    )


def _version(directory: Path) -> str:
    """The client's version from its package.json, else a digest of the main bundle."""
    manifest = directory.parent / "package.json"
    try:
        data = json.loads(manifest.read_text("utf-8"))
        version = data.get("version") if isinstance(data, dict) else None
        if isinstance(version, str) and version and _VERSION_CHARS.issuperset(version):
            return version
    except (OSError, ValueError):
        pass
    digest = hashlib.sha256((directory / "socket.io.min.js").read_bytes()).hexdigest()
    return digest[:16]


def _etag_matches(header: str, etag: str) -> bool:
    return any(tag.strip() in (etag, "W/" + etag) for tag in header.split(","))


def _encoding(accept: str) -> str | None:
    """Gzip or deflate when the request's ``Accept-Encoding`` allows it (q > 0)."""
    offered: dict[str, float] = {}
    for item in accept.split(","):
        name, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        offered[name.strip().lower()] = quality
    for name in ("gzip", "deflate"):
        if offered.get(name, offered.get("*", 0.0)) > 0:
            return name
    return None


class ClientBundle:
    """Answers the client bundle's requests for one endpoint path.

    Args:
        directory: the folder holding the bundle (see `find_bundle_dir`).
        path: the endpoint path (``"/socket.io/"``); the files are served right under it.
        cors: the engine's CORS policy (its headers are added, as the reference does).
    """

    def __init__(self, directory: Path, path: str, cors: CorsPolicy | None = None) -> None:
        self.directory = directory
        self.prefix = path.rstrip("/") + "/"
        self.version = _version(directory)
        self.etag = f'"{self.version}"'
        self.files = frozenset(name for name in CLIENT_FILES if (directory / name).is_file())
        self.cors = cors
        self._cache: dict[tuple[str, str | None], bytes] = {}

    def _body(self, name: str, encoding: str | None) -> bytes:
        key = (name, encoding)
        body = self._cache.get(key)
        if body is None:
            body = (self.directory / name).read_bytes() if encoding is None else b""
            if encoding is not None:
                plain = self._body(name, None)
                if encoding == "gzip":
                    body = gzip.compress(plain, compresslevel=6, mtime=0)
                else:
                    body = zlib.compress(plain, 6)
            self._cache[key] = body
        return body

    def lookup(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to ``request`` when it asks for a bundle file, else None."""
        path = request.path
        if not path.startswith(self.prefix) or request.method not in ("GET", "HEAD"):
            return None
        name = path[len(self.prefix) :]
        if name not in self.files:
            return None
        headers = self.cors.response_headers(request.headers) if self.cors else []
        headers += [("Cache-Control", "public, max-age=0"), ("ETag", self.etag)]
        match = request.headers.get("if-none-match")
        if match is not None and _etag_matches(match, self.etag):
            return HttpResponse(304, headers, b"")
        kind = "json" if name.endswith(".map") else "javascript"
        headers.append(("Content-Type", f"application/{kind}; charset=utf-8"))
        headers.append(("Vary", "Accept-Encoding"))
        encoding = _encoding(request.headers.get("accept-encoding", ""))
        body = self._body(name, encoding)
        if encoding is not None:
            headers.append(("Content-Encoding", encoding))
        if request.method == "HEAD":
            headers.append(("Content-Length", str(len(body))))
            return HttpResponse(200, headers, b"")
        return HttpResponse(200, headers, body)


def _application_dirs() -> list[Path]:
    """Where to look from: the current directory, the module that built the server, __main__."""
    found = [Path.cwd()]
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name != "siox" and not name.startswith("siox."):
            filename = frame.f_globals.get("__file__")
            if isinstance(filename, str):
                found.append(Path(filename).resolve().parent)
            break
        frame = frame.f_back  # type: ignore[assignment]
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if isinstance(main, str):
        found.append(Path(main).resolve().parent)
    return found


def client_bundle_for(
    engine: EngineServer, configured: str | os.PathLike[str] | None
) -> ClientBundle:
    """The bundle an engine serves (``Server(serve_client=True)``), found now.

    Raises:
        FileNotFoundError: no bundle found (see `find_bundle_dir`).
    """
    directory = find_bundle_dir(
        None if configured is None else Path(configured), _application_dirs()
    )
    return ClientBundle(directory, engine.path, engine.cors)
