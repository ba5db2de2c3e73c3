"""Client options against Node and siox: headers, query, path, cookies, parsers, protocol 4,
TLS, and the blocking SyncClient."""

from __future__ import annotations

import asyncio
import base64
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import siox
from changing import now
from client.peers import FAST, TRANSPORTS, NodePeer, SioxPeer, shared_node

pytestmark = pytest.mark.timeout(20)

ALL_TRANSPORTS = pytest.mark.parametrize("transport", list(TRANSPORTS))


@pytest_asyncio.fixture(params=["node", "siox"])
async def custom_peer(
    request: pytest.FixtureRequest, node_peers: dict[tuple[str, ...], NodePeer]
) -> AsyncIterator[NodePeer | SioxPeer]:
    """The peer app at /custom/ that sets an affinity cookie on the handshake."""
    if request.param == "node":
        yield shared_node(node_peers, "--path", "/custom/", "--cookie")
        return
    peer = SioxPeer(path="/custom/", cookie="lb")
    await peer.start()
    try:
        yield peer
    finally:
        await peer.stop()


@ALL_TRANSPORTS
async def test_headers_query_path_and_cookies_go_with_every_request(
    custom_peer: NodePeer | SioxPeer, transport: str
) -> None:
    client = siox.Client(
        custom_peer.url + "?from=url",
        path="/custom",
        transports=TRANSPORTS[transport],
        headers={"X-Token": "t0k"},
        query={"room": "blue"},
        **FAST,
    )
    socket = client.socket("/")
    try:
        await socket.connect(timeout=5)
        info = await socket.emit_with_ack("info", timeout=5)
        assert info["query"]["room"] == "blue"
        assert info["query"]["from"] == "url"
        assert info["headers"]["x-token"] == "t0k"
        if transport == "upgrade":
            for _ in range(100):
                if client.transport == "websocket":
                    break
                await asyncio.sleep(0.02)
        await socket.emit_with_ack("echo", 1, timeout=5)  # one more request each way
        if isinstance(custom_peer, NodePeer) or transport != "websocket":
            # (the siox server sets its affinity cookie on polling handshakes only)
            assert client._cookies is not None and len(client._cookies) == 1
        log = await socket.emit_with_ack("requests", timeout=5)
        if isinstance(custom_peer, NodePeer):  # only the Node peer logs requests
            mine = [r for r in log if f"sid={client.sid}" in r["url"]]
            assert all(r["token"] == "t0k" and "room=blue" in r["url"] for r in mine)
            assert all(r["cookie"] == "lb=node1" for r in mine)
            if transport != "websocket":  # a WebSocket-only session makes one request
                assert len(mine) >= 2
    finally:
        await client.close()


@pytest.mark.parametrize("kind", ["node", "siox"])
@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_msgpack_parser(
    kind: str, transport: str, node_peers: dict[tuple[str, ...], NodePeer]
) -> None:
    peer: NodePeer | SioxPeer
    if kind == "node":
        peer = shared_node(node_peers, "--parser", "msgpack")
    else:
        peer = SioxPeer(parser="msgpack")
        await peer.start()
    try:
        async with siox.connect(
            peer.url, parser="msgpack", transports=TRANSPORTS[transport], wait_timeout=5
        ) as socket:
            value = {"bin": b"\x00\xff", "list": [1, 2.5, None, True], "s": "\u00e9"}
            assert await socket.emit_with_ack("echo", value, b"x", timeout=5) == (value, b"x")
            assert await socket.emit_with_ack("echo", timeout=5) is None
    finally:
        if isinstance(peer, SioxPeer):
            await peer.stop()


@pytest.mark.parametrize("kind", ["node", "siox"])
async def test_the_msgpack_module_as_client_parser_talks_to_msgpack_servers(
    kind: str, node_peers: dict[tuple[str, ...], NodePeer]
) -> None:
    import siox.parser.msgpack

    peer: NodePeer | SioxPeer
    if kind == "node":
        peer = shared_node(node_peers, "--parser", "msgpack")
    else:
        peer = SioxPeer(parser="msgpack")
        await peer.start()
    try:
        async with siox.connect(peer.url, parser=siox.parser.msgpack, wait_timeout=5) as socket:
            value = {"bin": b"\x00\xff", "n": [1, None]}
            assert await socket.emit_with_ack("echo", value, timeout=5) == value
    finally:
        if isinstance(peer, SioxPeer):
            await peer.stop()


@ALL_TRANSPORTS
async def test_protocol_4_talks_to_socket_io_2(
    transport: str, node_peers: dict[tuple[str, ...], NodePeer]
) -> None:
    peer = shared_node(node_peers, "--v2")
    client = siox.Client(peer.url, protocol=4, transports=TRANSPORTS[transport], **FAST)
    main, chat = client.socket("/"), client.socket("/chat")
    try:
        await main.connect(timeout=5)
        assert main.id == client.sid  # socket.io 2.x: the main socket id is the Engine.IO sid
        await chat.connect(timeout=5)
        assert chat.id == f"/chat#{client.sid}"
        assert await main.emit_with_ack("echo", 1, b"\x01\x02", {"k": [b"z"]}, timeout=5) == (
            1,
            b"\x01\x02",
            {"k": [b"z"]},
        )
        assert await chat.emit_with_ack("echo", "c", timeout=5) == "c"
        main.on("q", lambda x: (x, x + 1))
        answer = await main.emit_with_ack("ask", {"event": "q", "args": [1]}, timeout=5)
        assert answer == {"reply": [1, 2]}
    finally:
        await client.close()


async def test_protocol_4_against_siox_with_allow_eio3() -> None:
    peer = SioxPeer(allow_eio3=True)
    await peer.start()
    try:
        for transport in TRANSPORTS.values():
            async with siox.connect(
                peer.url, protocol=4, transports=transport, wait_timeout=5
            ) as socket:
                assert await socket.emit_with_ack("echo", b"\x00", 2, timeout=5) == (b"\x00", 2)
    finally:
        await peer.stop()


async def test_protocol_4_refused_namespace(node_peers: dict[tuple[str, ...], NodePeer]) -> None:
    peer = shared_node(node_peers, "--v2")
    client = siox.Client(peer.url, protocol=4, **FAST)
    try:
        with pytest.raises(siox.ConnectionRefused):
            await client.socket("/private").connect(timeout=5)
    finally:
        await client.close()


def test_sync_client(node_peers: dict[tuple[str, ...], NodePeer]) -> None:
    peer = shared_node(node_peers)
    got: list[Any] = []
    with siox.SyncClient(peer.url, transports=("websocket",)) as client:
        socket = client.socket("/")
        socket.on("echo-back", lambda *args: got.append(args))

        @socket.on("question")
        def question(x: int) -> int:
            with pytest.raises(RuntimeError, match="loop thread"):
                socket.emit("nope")
            return x * 2

        socket.connect(timeout=5)
        assert now(socket.connected) and socket.id
        assert socket.emit_with_ack("echo", 1, b"2", timeout=5) == (1, b"2")
        socket.emit("echo-back", "hi")
        with pytest.raises(TimeoutError):
            socket.wait_for("never", timeout=0.05)
        assert socket.emit_with_ack("ask", {"event": "question", "args": [21]}) == {"reply": [42]}
        with pytest.raises(siox.AckTimeout):
            socket.emit_with_ack("nobody-answers", timeout=0.1)
        assert got == [("hi",)]
        socket.disconnect()
        assert not socket.connected
    with pytest.raises(RuntimeError, match="closed"):
        socket.emit("late")


# -- TLS (hostile-inputs K03) ---------------------------------------------------------------------


def make_certificate(directory: Path, name: str, san: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}",
        ],
        check=True,
        capture_output=True,
        timeout=20,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    return {
        "localhost": make_certificate(directory, "localhost", "IP:127.0.0.1"),
        "elsewhere": make_certificate(directory, "elsewhere", "DNS:example.com"),
    }


async def serve_tls(cert: Path, key: Path) -> SioxPeer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    peer = SioxPeer(ssl=context)
    await peer.start()
    return peer


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_tls_verifies_certificates_by_default(
    certificates: dict[str, tuple[Path, Path]], transport: str
) -> None:
    cert, key = certificates["localhost"]
    peer = await serve_tls(cert, key)
    url = f"https://127.0.0.1:{peer.port}"
    options: dict[str, Any] = {"transports": TRANSPORTS[transport], "reconnection": False}
    try:
        with pytest.raises(siox.NotConnected) as info:  # self-signed: refused by default
            async with siox.connect(url, wait_timeout=5, **options):
                pass
        assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
        trusted = ssl.create_default_context(cafile=str(cert))
        async with siox.connect(url, ssl=trusted, wait_timeout=5, **options) as socket:
            assert await socket.emit_with_ack("echo", "tls", timeout=5) == "tls"
        async with siox.connect(url, ssl=False, wait_timeout=5, **options) as socket:
            assert await socket.emit_with_ack("echo", "insecure", timeout=5) == "insecure"
    finally:
        await peer.stop()


async def test_tls_refuses_a_certificate_for_another_host(
    certificates: dict[str, tuple[Path, Path]],
) -> None:
    cert, key = certificates["elsewhere"]
    peer = await serve_tls(cert, key)
    trusted = ssl.create_default_context(cafile=str(cert))  # trusted, but not for this host
    try:
        with pytest.raises(siox.NotConnected, match="certificate") as info:
            await siox.connect(
                f"wss://127.0.0.1:{peer.port}",
                ssl=trusted,
                reconnection=False,
                transports=("websocket",),
                wait_timeout=5,
            )
        assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
    finally:
        await peer.stop()


# -- HTTP proxy (CONNECT tunnel) ------------------------------------------------------------------


class ConnectProxy:
    """A minimal HTTP CONNECT proxy that records what it was asked."""

    def __init__(self, *, password: str | None = None) -> None:
        self.password = password
        self.requests: list[tuple[str, str | None]] = []  # (target, Proxy-Authorization)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> ConnectProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in self.tasks:
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        target = head[0].split(" ")[1]
        auth = next(
            (h.split(":", 1)[1].strip() for h in head if h.lower().startswith("proxy-auth")), None
        )
        self.requests.append((target, auth))
        expected = None
        if self.password is not None:
            expected = "Basic " + base64.b64encode(f"me:{self.password}".encode()).decode()
        if auth != expected:
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        for task in (
            asyncio.ensure_future(pipe(reader, up_writer)),
            asyncio.ensure_future(pipe(up_reader, writer)),
        ):
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_http_proxy_tunnels_every_connection(transport: str) -> None:
    peer = SioxPeer()
    await peer.start()
    proxy = await ConnectProxy(password="s3cret").start()
    try:
        async with siox.connect(
            peer.url,
            proxy=f"http://me:s3cret@127.0.0.1:{proxy.port}",
            transports=TRANSPORTS[transport],
            wait_timeout=5,
        ) as socket:
            assert await socket.emit_with_ack("echo", b"via proxy", timeout=5) == b"via proxy"
        assert proxy.requests
        assert all(target == f"127.0.0.1:{peer.port}" for target, _ in proxy.requests)
    finally:
        await proxy.stop()
        await peer.stop()


async def test_tls_through_the_proxy_and_a_refusing_proxy(
    certificates: dict[str, tuple[Path, Path]],
) -> None:
    cert, key = certificates["localhost"]
    peer = await serve_tls(cert, key)
    proxy = await ConnectProxy().start()
    trusted = ssl.create_default_context(cafile=str(cert))
    try:
        async with siox.connect(
            f"https://127.0.0.1:{peer.port}",
            ssl=trusted,
            proxy=f"http://127.0.0.1:{proxy.port}",
            wait_timeout=5,
        ) as socket:
            assert await socket.emit_with_ack("echo", "tls+proxy", timeout=5) == "tls+proxy"
        guarded = await ConnectProxy(password="other").start()
        try:
            with pytest.raises(siox.HandshakeError, match="407"):
                await siox.connect(
                    f"https://127.0.0.1:{peer.port}",
                    ssl=trusted,
                    proxy=f"http://127.0.0.1:{guarded.port}",
                    reconnection=False,
                    wait_timeout=5,
                )
        finally:
            await guarded.stop()
    finally:
        await proxy.stop()
        await peer.stop()


def test_the_client_runs_on_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> None:
        peer = SioxPeer()
        await peer.start()
        try:
            for transport in TRANSPORTS.values():
                async with siox.connect(peer.url, transports=transport, wait_timeout=5) as socket:
                    assert await socket.emit_with_ack("echo", b"uv", [1], timeout=5) == (b"uv", [1])
        finally:
            await peer.stop()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(scenario())
