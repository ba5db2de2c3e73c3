"""Engine.IO over HTTP: handshake, polling, errors and the HTTP/polling hostile rows."""

from __future__ import annotations

import asyncio
import json

import pytest

import siox
from rawpeer import HttpResult, eio_url, http, open_polling, running, websocket


async def test_handshake_open_packet_has_exactly_the_reference_keys() -> None:
    sio = siox.Server(ping_interval=0.3, ping_timeout=0.2)
    async with running(sio) as port:
        sid, data = await open_polling(port)
    assert list(data) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]
    assert data["upgrades"] == ["websocket"]
    assert (data["pingInterval"], data["pingTimeout"], data["maxPayload"]) == (300, 200, 1_000_000)
    assert len(sid) == 20


async def test_post_is_answered_ok_and_messages_come_back_on_get() -> None:
    sio = siox.Server()

    @sio.on("echo")
    def echo(socket: siox.Socket, *args: object) -> tuple[object, ...]:
        return args

    async with running(sio) as port:
        sid, _ = await open_polling(port)
        post = await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b"40")
        assert (post.status, post.text) == (200, "ok")
        assert post.headers["content-type"].startswith("text/html")
        got = await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
        assert got.text.startswith('40{"sid":"')
        post = await http(
            port,
            "POST",
            eio_url(f"transport=polling&sid={sid}"),
            b'421["echo",1]\x1e422["echo","\xc3\xa9"]',
        )
        assert post.text == "ok"
        got = await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
        assert got.text == '431[1]\x1e432["é"]'


@pytest.mark.parametrize(
    "transport", ["__proto__", "constructor", "toString", "__class__", "__init__", "_upgrade_", ""]
)
async def test_h01_unknown_transport_names_are_refused_with_code_0(transport: str) -> None:
    async with running(siox.Server()) as port:
        result = await http(port, "GET", f"/socket.io/?EIO=4&transport={transport}")
        assert result.status == 400
        assert result.json() == {"code": 0, "message": "Transport unknown"}
        ws = await websocket(port, f"/socket.io/?EIO=4&transport={transport}")
        assert isinstance(ws, HttpResult)
        assert ws.status == 400


@pytest.mark.parametrize("eio", ["", "EIO=abc&", "EIO=5&", "EIO=3&"])
async def test_h03_unsupported_protocol_versions(eio: str) -> None:
    async with running(siox.Server()) as port:
        result = await http(port, "GET", f"/socket.io/?{eio}transport=polling")
        assert result.status == 400
        assert result.json() == {"code": 5, "message": "Unsupported protocol version"}


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_h04_unknown_sid(method: str) -> None:
    async with running(siox.Server()) as port:
        body = b"40" if method == "POST" else None
        result = await http(port, method, eio_url("transport=polling&sid=doesnotexist"), body)
        assert result.status == 400
        assert result.json() == {"code": 1, "message": "Session ID unknown"}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "POST"])
async def test_h05_handshake_with_another_method(method: str) -> None:
    async with running(siox.Server()) as port:
        result = await http(port, method, eio_url("transport=polling"), b"")
        assert result.status == 400
        assert result.json() == {"code": 2, "message": "Bad handshake method"}


async def test_h05_options_preflight_is_answered_by_cors() -> None:
    async with running(siox.Server(cors_allowed_origins=["https://app.example"])) as port:
        result = await http(
            port,
            "OPTIONS",
            eio_url("transport=polling"),
            headers=[("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST")],
        )
        assert result.status == 204
        assert result.headers["access-control-allow-origin"] == "https://app.example"
        assert "POST" in result.headers["access-control-allow-methods"]


async def test_h07_concurrent_posts_second_gets_400() -> None:
    async with running(siox.Server()) as port:
        sid, _ = await open_polling(port)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # A POST whose body never completes keeps the first POST in progress.
        writer.write(
            f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
            f"Host: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n40".encode()
        )
        await writer.drain()
        await asyncio.sleep(0.1)
        second = await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b"40")
        assert second.status == 400
        writer.close()


async def test_h08_oversized_post_gets_413_and_closes_the_session() -> None:
    async with running(siox.Server(max_http_buffer_size=1000)) as port:
        sid, _ = await open_polling(port)
        result = await http(
            port, "POST", eio_url(f"transport=polling&sid={sid}"), b"4" + b"x" * 5000
        )
        assert result.status == 413
        after = await http(port, "GET", eio_url(f"transport=polling&sid={sid}"))
        assert after.status == 400
        assert after.json()["code"] == 1


async def test_h08_declared_length_beyond_the_limit_is_refused_before_the_body() -> None:
    async with running(siox.Server(max_http_buffer_size=1000)) as port:
        sid, _ = await open_polling(port)
        raw = (
            f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: text/plain\r\nContent-Length: 2000000\r\n\r\n".encode()
        )
        result = await http(port, "POST", "", raw=raw + b"4" * 3000)
        assert result.status == 413


@pytest.mark.parametrize(
    "headers",
    [
        "Content-Length: abc\r\n",
        "Content-Length: -1\r\n",
        "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
    ],
)
async def test_h10_bad_content_length_is_400(headers: str) -> None:
    async with running(siox.Server()) as port:
        sid, _ = await open_polling(port)
        raw = (
            f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n{headers}\r\n40"
        ).encode()
        result = await http(port, "POST", "", raw=raw)
        assert result.status == 400


async def test_h12_slow_request_times_out_and_others_are_unaffected() -> None:
    async with running(siox.Server(), request_timeout=0.5) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Le")
        sid, _ = await open_polling(port)  # another client is served meanwhile
        assert sid
        data = await asyncio.wait_for(reader.read(1000), 3)
        assert data.startswith(b"HTTP/1.1 408")
        writer.close()


async def test_h13_cross_origin_handshake_is_refused_by_default() -> None:
    async with running(siox.Server()) as port:
        result = await http(
            port, "GET", eio_url("transport=polling"), headers=[("Origin", "https://evil.example")]
        )
        assert result.status == 400
        assert "access-control-allow-origin" not in result.headers
        same = await http(
            port,
            "GET",
            eio_url("transport=polling"),
            headers=[("Origin", f"http://127.0.0.1:{port}")],
        )
        assert same.status == 200
        ws = await websocket(
            port, eio_url("transport=websocket"), headers=[("Origin", "https://evil.example")]
        )
        assert getattr(ws, "status", None) == 400


async def test_h13_an_origin_outside_the_list_gets_no_cors_headers_on_its_refusal() -> None:
    sio = siox.Server(cors_allowed_origins=["https://good.example"])
    async with running(sio) as port:
        evil = await http(
            port, "GET", eio_url("transport=polling"), headers=[("Origin", "https://evil.example")]
        )
        assert evil.status == 400
        assert "access-control-allow-origin" not in evil.headers
        # An allowed origin can read its own errors (an unknown session here).
        good = await http(
            port,
            "GET",
            eio_url("transport=polling&sid=nope"),
            headers=[("Origin", "https://good.example")],
        )
        assert good.status == 400
        assert good.headers["access-control-allow-origin"] == "https://good.example"


async def test_h13_wildcard_cors_never_allows_credentials() -> None:
    async with running(siox.Server(cors_allowed_origins="*")) as port:
        result = await http(
            port, "GET", eio_url("transport=polling"), headers=[("Origin", "https://a.example")]
        )
        assert result.status == 200
        assert result.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in result.headers


@pytest.mark.parametrize(
    "path", ["/socket.io", "//socket.io/", "/socket.io/../socket.io/", "/SOCKET.IO/", "/other"]
)
async def test_h17_path_confusion_is_routed_exactly(path: str) -> None:
    async with running(siox.Server()) as port:
        result = await http(port, "GET", f"{path}?EIO=4&transport=polling")
        if path == "/socket.io":
            assert result.status == 200  # the trailing slash is optional, as in the reference
        else:
            assert result.status == 404


async def test_allow_request_hook_refuses_with_403() -> None:
    async def allow(request: object) -> str | bool:
        return "go away"

    async with running(siox.Server(allow_request=allow)) as port:
        result = await http(port, "GET", eio_url("transport=polling"))
        assert result.status == 403
        assert result.json() == {"code": 4, "message": "go away"}


async def test_affinity_cookie_is_set_when_asked() -> None:
    async with running(siox.Server(cookie="io")) as port:
        result = await http(port, "GET", eio_url("transport=polling"))
        sid = json.loads(result.text[1:])["sid"]
        assert result.headers["set-cookie"].startswith(f"io={sid}; Path=/; HttpOnly")


async def test_polling_responses_are_compressed_when_large() -> None:
    sio = siox.Server()

    @sio.on("connect")
    async def connect(socket: siox.Socket) -> None:
        await socket.emit("big", "x" * 5000)

    async with running(sio) as port:
        sid, _ = await open_polling(port)
        await http(port, "POST", eio_url(f"transport=polling&sid={sid}"), b"40")
        result = await http(
            port,
            "GET",
            eio_url(f"transport=polling&sid={sid}"),
            headers=[("Accept-Encoding", "gzip")],
        )
        assert result.headers.get("content-encoding") == "gzip"
        import gzip

        assert b"x" * 5000 in gzip.decompress(result.body)


async def test_u08_h2c_upgrade_on_the_engine_path_is_refused_cleanly() -> None:
    async with running(siox.Server()) as port:
        raw = (
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"
            b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"
        )
        result = await http(port, "GET", "", raw=raw)
        assert result.status == 400
        sid, _ = await open_polling(port)  # the server is fine
        assert sid


async def test_affinity_cookie_is_set_on_websocket_only_handshakes_too() -> None:
    async with running(siox.Server(cookie="io")) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        frame = await asyncio.wait_for(reader.read(1000), 5)
        writer.close()
    assert head.startswith(b"HTTP/1.1 101")
    sid = json.loads(frame[2:].decode()[1:])["sid"]
    assert f"Set-Cookie: io={sid}; Path=/; HttpOnly".encode() in head
