"""Server lifecycle: graceful shutdown, TLS, logging."""

from __future__ import annotations

import asyncio
import logging
import ssl
import subprocess
from pathlib import Path

import pytest

import siox
from rawpeer import RawWebSocket, eio_url, open_polling, ws_connect_sio


async def test_graceful_shutdown_tells_clients_and_stops_accepting() -> None:
    sio = siox.Server()
    reasons: list[str] = []
    sio.on("disconnect", lambda socket, reason: reasons.append(reason))
    serving = await siox.serve(sio, port=0, shutdown_timeout=1.0).start()
    port = serving.port
    peer, _ = await ws_connect_sio(port)
    await serving.close()
    assert isinstance(peer, RawWebSocket)
    assert await peer.closed(timeout=3) is not None
    await asyncio.sleep(0.05)
    assert reasons == ["server shutting down"]
    with pytest.raises(OSError):
        await open_polling(port)
    peer.writer.close()


async def test_new_sessions_are_refused_while_shutting_down() -> None:
    sio = siox.Server()
    async with siox.serve(sio, port=0, shutdown_timeout=0.5) as serving:
        sio.engine.accepting = False
        from rawpeer import http

        result = await http(serving.port, "GET", eio_url("transport=polling"))
        assert result.status == 503


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    completed = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        capture_output=True,
        check=False,
        timeout=60,
    )
    if completed.returncode != 0:
        pytest.skip(f"openssl could not make a test certificate: {completed.stderr[-200:]!r}")
    return key, cert


async def test_tls_through_an_ssl_context(certificate: tuple[Path, Path]) -> None:
    key, cert = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    sio = siox.Server()
    async with siox.serve(sio, port=0, ssl=server_context, shutdown_timeout=0.5) as serving:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", serving.port, ssl=client_context
        )
        writer.write(
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Connection: close\r\n\r\n"
        )
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    assert data.startswith(b"HTTP/1.1 200")
    assert b'0{"sid":"' in data


async def test_logging_goes_through_the_siox_logger_without_handlers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert logging.getLogger("siox").handlers == []
    sio = siox.Server()

    @sio.on("boom")
    def boom(socket: siox.Socket) -> None:
        raise RuntimeError("reported")

    with caplog.at_level(logging.ERROR, logger="siox"):
        async with siox.serve(sio, port=0, shutdown_timeout=0.5) as serving:
            peer, _ = await ws_connect_sio(serving.port)
            await peer.send('42["boom"]')
            await asyncio.sleep(0.1)
            peer.writer.close()
    assert any(record.name == "siox" and record.exc_info for record in caplog.records)
