"""Where a client connects: the parsed server URL, request targets, TLS context and cookies.

`Endpoint` is built once per `siox.Client` from its URL and options and is immutable; the
`CookieJar` is shared by every request of that client, so a load balancer's affinity cookie
(``Set-Cookie`` on the handshake) goes back on every later request, the WebSocket upgrade
included, as a browser would send it.
"""

from __future__ import annotations

import logging
import ssl as ssl_module
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from ..engineio.outputs import Query
from .stream import Proxy, parse_proxy

__all__ = ["CookieJar", "Endpoint", "make_ssl_context", "parse_endpoint"]

logger = logging.getLogger("siox.client")

_SCHEMES = {"http": False, "ws": False, "https": True, "wss": True}
#: Engine.IO's own query parameters: an application's query may not override them.
_RESERVED_QUERY = frozenset({"EIO", "transport", "sid", "b64"})

SslOption = ssl_module.SSLContext | bool | None


def make_ssl_context(option: SslOption, secure: bool) -> ssl_module.SSLContext | None:
    """The TLS context for a connection.

    Args:
        option: None or True: verify the server's certificate and host name against the
            system's trust store (the default). An `ssl.SSLContext`: use it as given.
            False: explicit opt-out, no verification at all (logged as a warning).
        secure: whether the URL asks for TLS (``https``/``wss``).

    Returns:
        The context, or None for plain TCP.
    """
    if not secure:
        return None
    if isinstance(option, ssl_module.SSLContext):
        return option
    context = ssl_module.create_default_context()
    if option is False:
        logger.warning("TLS certificate verification is disabled (ssl=False)")
        context.check_hostname = False
        context.verify_mode = ssl_module.CERT_NONE
    return context


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A Socket.IO server as the client reaches it.

    Attributes:
        secure: TLS or not.
        host: the host name or address (IPv6 without brackets).
        port: the TCP port.
        path: the Engine.IO path, ending with ``/`` (``/socket.io/``).
        url_path: the path of the URL itself (socket.io-client reads it as the namespace).
        query: extra query parameters sent with every request.
        headers: extra headers sent with every request (the WebSocket upgrade included).
        ssl: the TLS context, or None.
        proxy: the HTTP proxy to tunnel through, or None.
    """

    secure: bool
    host: str
    port: int
    path: str
    url_path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    ssl: ssl_module.SSLContext | None
    proxy: Proxy | None = None

    @property
    def host_header(self) -> str:
        """The ``Host`` header value (the port only when it is not the scheme's default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.secure else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        """The server's origin, ``http(s)://host[:port]``."""
        return f"{'https' if self.secure else 'http'}://{self.host_header}"

    def target(self, engine_query: Query) -> str:
        """The request target for these Engine.IO query parameters (application query after)."""
        return f"{self.path}?{urlencode(engine_query + self.query)}"


def parse_endpoint(
    url: str,
    *,
    path: str = "/socket.io/",
    query: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ssl: SslOption = None,
    proxy: str | None = None,
    add_trailing_slash: bool = True,
) -> Endpoint:
    """Parse a server URL (``http``, ``https``, ``ws`` or ``wss``) and the request options.

    The URL's own query string is kept and sent with every request, after ``query``.
    ``proxy`` is an ``http://[user:password@]host[:port]`` URL to tunnel through.
    ``add_trailing_slash`` (True) ends ``path`` with ``/``, as socket.io-client does; False
    keeps it as written.

    Raises:
        ValueError: an unsupported scheme, no host, a bad port, or a query parameter that
            would override Engine.IO's own (``EIO``, ``transport``, ``sid``, ``b64``).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"unsupported URL scheme {parts.scheme!r} (use http, https, ws or wss)")
    secure = _SCHEMES[scheme]
    if not parts.hostname:
        raise ValueError(f"the URL {url!r} has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {url!r}") from exc
    if port is None:
        port = 443 if secure else 80
    if not path.startswith("/"):
        path = "/" + path
    if add_trailing_slash and not path.endswith("/"):
        path += "/"
    pairs = list(_pairs(query))
    if parts.query:
        pairs.extend(parse_qsl(parts.query, keep_blank_values=True))
    clashes = sorted({name for name, _ in pairs} & _RESERVED_QUERY)
    if clashes:
        raise ValueError(f"query parameters {clashes} are Engine.IO's own")
    extra_headers = tuple((str(k), str(v)) for k, v in _pairs(headers))
    return Endpoint(
        secure=secure,
        host=parts.hostname,
        port=port,
        path=quote(path, safe="/%:@!$&'()*+,;=-._~"),
        url_path=parts.path or "/",
        query=tuple((str(k), str(v)) for k, v in pairs),
        headers=extra_headers,
        ssl=make_ssl_context(ssl, secure),
        proxy=None if proxy is None else parse_proxy(proxy),
    )


def _pairs(
    items: Mapping[str, str] | Iterable[tuple[str, str]] | None,
) -> Iterable[tuple[str, str]]:
    if items is None:
        return ()
    if isinstance(items, Mapping):
        return items.items()
    return items


class CookieJar:
    """Cookies set by one server, sent back on every request to it.

    Only ``name=value`` and expiry (``Max-Age``, ``Expires``) are honoured: the jar belongs to
    one endpoint, so ``Domain`` and ``Path`` need no matching. A cookie that expires is dropped.
    """

    def __init__(self) -> None:
        self._cookies: dict[str, tuple[str, float | None]] = {}

    def __len__(self) -> int:
        return len(self._cookies)

    def store(self, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """Take the ``Set-Cookie`` headers of a response (names lowercased, as parsed)."""
        for name, value in headers:
            if name == b"set-cookie":
                self._store_one(value.decode("latin-1"))

    def _store_one(self, line: str) -> None:
        first, *attributes = line.split(";")
        name, sep, value = first.partition("=")
        name = name.strip()
        if not sep or not name:
            return
        expires: float | None = None
        for attribute in attributes:
            key, _, arg = attribute.partition("=")
            key = key.strip().lower()
            if key == "max-age":
                try:
                    expires = time.time() + int(arg.strip())
                except ValueError:
                    continue
                break  # Max-Age wins over Expires (RFC 6265 section 5.3)
            if key == "expires":
                try:
                    expires = parsedate_to_datetime(arg.strip()).timestamp()
                except (TypeError, ValueError, IndexError, OverflowError):
                    continue
        if expires is not None and expires <= time.time():
            self._cookies.pop(name, None)
        else:
            self._cookies[name] = (value.strip(), expires)

    def header(self) -> str | None:
        """The ``Cookie`` header value, or None when the jar holds nothing current."""
        if not self._cookies:
            return None
        now = time.time()
        live = [
            f"{name}={value}"
            for name, (value, expires) in self._cookies.items()
            if expires is None or expires > now
        ]
        return "; ".join(live) or None
