"""TCP and TLS connections for the client, direct or through an HTTP proxy (CONNECT tunnel).

`open_stream` returns a `Stream`, an `asyncio.Protocol` whose incoming bytes go to a
replaceable receiver, so the HTTP and WebSocket codecs can take turns on one connection. With
a proxy, the stream first asks ``CONNECT host:port`` (``Proxy-Authorization: Basic`` when the
proxy URL has credentials), then TLS starts inside the tunnel for ``https``/``wss`` servers,
so the proxy sees only the target's name and port. Only ``http://`` proxies are supported.
"""

from __future__ import annotations

import asyncio
import base64
import ssl as ssl_module
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote, urlsplit

from ..errors import HandshakeError

__all__ = ["Proxy", "Stream", "open_stream", "parse_proxy"]

#: The longest proxy answer head accepted.
_MAX_PROXY_HEAD = 16_384


@dataclass(frozen=True, slots=True)
class Proxy:
    """An HTTP proxy.

    Attributes:
        host: its host name or address.
        port: its port.
        authorization: the ``Proxy-Authorization`` value, or None.
    """

    host: str
    port: int
    authorization: str | None = None


def parse_proxy(url: str) -> Proxy:
    """Parse ``http://[user:password@]host[:port]`` (port 8080 by default).

    Raises:
        ValueError: not an ``http://`` URL with a host.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise ValueError(f"unsupported proxy URL {url!r} (use http://[user:pass@]host:port)")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return Proxy(parts.hostname, parts.port or 8080, authorization)


def _ignore_data(data: bytes) -> None:
    del data


def _ignore_loss(exc: BaseException | None) -> None:
    del exc


class Stream(asyncio.Protocol):
    """One TCP (or TLS) connection whose incoming bytes go to a replaceable receiver.

    Attributes:
        receiver: called with every chunk received.
        on_lost: called once when the connection is gone.
        on_pause: called when the write buffer is full (optional).
        on_resume: called when it drained (optional).
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        #: Resolved once the connection is gone.
        self.gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.receiver: Callable[[bytes], None] = _ignore_data
        self.on_lost: Callable[[BaseException | None], None] = _ignore_loss
        self.on_pause: Callable[[], None] | None = None
        self.on_resume: Callable[[], None] | None = None
        self._pending: list[bytes] | None = None
        self._burst = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Asyncio callback: connected."""
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        """Asyncio callback: bytes arrived (the next `write_soon` goes out at once)."""
        self._burst = False
        self.receiver(data)

    def eof_received(self) -> bool | None:
        """Asyncio callback: the peer closed its side."""
        return None  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        """Asyncio callback: the connection is gone."""
        self.closed = True
        if not self.gone.done():
            self.gone.set_result(None)
        self.on_lost(exc)

    def pause_writing(self) -> None:
        """Asyncio callback: the write buffer is full."""
        if self.on_pause is not None:
            self.on_pause()

    def resume_writing(self) -> None:
        """Asyncio callback: the write buffer drained."""
        if self.on_resume is not None:
            self.on_resume()

    def write(self, data: bytes) -> None:
        """Write bytes (after anything `write_soon` holds) unless the connection is gone."""
        if self._pending is not None:
            self._flush()
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def write_soon(self, data: bytes) -> None:
        """Write bytes now if nothing was written since the last read, else batch them.

        The first message after the peer's last read goes out at once (no added latency);
        any more written before the next read are joined and written once, at the end of the
        loop iteration (a burst of emits, the replies to a batch of acks): one system call
        instead of one each. A request and its answer (an emit and its ack) thus cost one
        write and no loop callback.
        """
        pending = self._pending
        if pending is not None:
            pending.append(data)
        elif self._burst:
            self._pending = [data]
            asyncio.get_running_loop().call_soon(self._end_burst)
        else:
            if not self.closed and self.transport is not None:  # `write`, nothing held
                self.transport.write(data)
            self._burst = True

    def _end_burst(self) -> None:
        self._burst = False
        self._flush()

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self.closed and self.transport is not None:
            self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        """Close after flushing what is buffered."""
        self._flush()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once."""
        self._pending = None
        if self.transport is not None:
            self.transport.abort()


async def open_stream(
    host: str,
    port: int,
    *,
    timeout: float,
    tls: ssl_module.SSLContext | None = None,
    proxy: Proxy | None = None,
) -> Stream:
    """Connect (TCP, the proxy tunnel if any, then TLS) within ``timeout`` seconds.

    Raises:
        OSError: the connection failed or timed out (``TimeoutError``), or the certificate
            was refused (``ssl.SSLCertVerificationError``).
        HandshakeError: the proxy refused the tunnel.
    """
    loop = asyncio.get_running_loop()
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        async with asyncio.timeout(timeout):
            if proxy is None:
                _, stream = await loop.create_connection(
                    Stream,
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                    ssl_handshake_timeout=timeout if tls is not None else None,
                )
                return stream
            _, stream = await loop.create_connection(Stream, proxy.host, proxy.port)
            try:
                await _tunnel(stream, where, proxy)
                if tls is not None and stream.transport is not None:
                    stream.transport = cast(
                        asyncio.Transport,
                        await loop.start_tls(stream.transport, stream, tls, server_hostname=host),
                    )
            except BaseException:
                stream.abort()
                raise
            return stream
    except TimeoutError:
        raise TimeoutError(f"connecting to {where} timed out after {timeout:g} s") from None


async def _tunnel(stream: Stream, where: str, proxy: Proxy) -> None:
    """Ask the proxy for a tunnel to ``where`` and wait for its 2xx answer."""
    done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    received = bytearray()

    def receive(data: bytes) -> None:
        received.extend(data)
        if done.done():
            return
        end = received.find(b"\r\n\r\n")
        if end >= 0:
            done.set_result(bytes(received[:end]))
        elif len(received) > _MAX_PROXY_HEAD:
            done.set_exception(HandshakeError("the proxy's answer is too long"))

    def lost(exc: BaseException | None) -> None:
        if not done.done():
            error = ConnectionResetError("the proxy closed the connection")
            error.__cause__ = exc
            done.set_exception(error)

    stream.receiver, stream.on_lost = receive, lost
    request = f"CONNECT {where} HTTP/1.1\r\nHost: {where}\r\n"
    if proxy.authorization is not None:
        request += f"Proxy-Authorization: {proxy.authorization}\r\n"
    stream.write((request + "\r\n").encode("latin-1"))
    head = await done
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    version, _, rest = status_line.partition(" ")
    status = rest[:3]
    if not version.startswith("HTTP/1.") or not status.isdigit():
        raise HandshakeError(f"the proxy answered {status_line!r}")
    if not 200 <= int(status) < 300:
        raise HandshakeError(
            f"the proxy refused the tunnel: {status_line}", http_status=int(status)
        )
    if len(received) > len(head) + 4:
        raise HandshakeError("the proxy sent bytes before the tunnel was used")
    stream.receiver, stream.on_lost = _ignore_data, _ignore_loss
