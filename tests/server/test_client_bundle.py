"""`Server(serve_client=True)`: the official client bundle, as the JavaScript server serves it.

The bundle is the real one installed by npm in tests/node; discovery and the errors use small
stand-in folders under tmp_path. Both front ends are exercised: the native server over a real
socket, and `ASGIApp` called as an ASGI server would call it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import zlib
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

import siox
from siox.server.client_bundle import CLIENT_FILES

NODE_DIST = (
    Path(__file__).resolve().parents[1] / "node" / "node_modules" / "socket.io-client" / "dist"
)
VERSION = json.loads((NODE_DIST.parent / "package.json").read_text())["version"]
ETAG = f'"{VERSION}"'

pytestmark = pytest.mark.skipif(
    not (NODE_DIST / "socket.io.min.js").is_file(), reason="npm ci in tests/node first"
)


async def native_get(
    port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), parsed, body


async def asgi_get(
    app: siox.ASGIApp, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    sent: list[MutableMapping[str, Any]] = []
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 1234),
        "scheme": "http",
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    parsed = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], parsed, b"".join(m.get("body", b"") for m in sent[1:])


def test_every_reference_file_is_served_with_its_type_etag_and_cache_headers() -> None:
    sio = siox.Server(serve_client=True, client_bundle_dir=NODE_DIST)

    async def main() -> None:
        async with siox.serve(sio, port=0) as serving:
            for name in CLIENT_FILES:
                status, headers, body = await native_get(serving.port, f"/socket.io/{name}")
                assert status == 200, name
                assert body == (NODE_DIST / name).read_bytes(), name
                kind = "json" if name.endswith(".map") else "javascript"
                assert headers["content-type"] == f"application/{kind}; charset=utf-8"
                assert headers["etag"] == ETAG
                assert headers["cache-control"] == "public, max-age=0"
                assert "content-encoding" not in headers

    asyncio.run(main())


def test_a_matching_if_none_match_gets_a_bodyless_304_and_a_stale_one_the_file() -> None:
    sio = siox.Server(serve_client=True, client_bundle_dir=NODE_DIST)

    async def main() -> None:
        async with siox.serve(sio, port=0) as serving:
            for tag in (ETAG, "W/" + ETAG, f'"0.0.1", {ETAG}'):
                status, headers, body = await native_get(
                    serving.port, "/socket.io/socket.io.min.js", {"If-None-Match": tag}
                )
                assert (status, body) == (304, b""), tag
                assert headers["etag"] == ETAG
            status, _, body = await native_get(
                serving.port, "/socket.io/socket.io.min.js", {"If-None-Match": '"0.0.1"'}
            )
            assert status == 200
            assert body == (NODE_DIST / "socket.io.min.js").read_bytes()

    asyncio.run(main())


def test_bodies_are_compressed_when_accepted_and_head_has_no_body() -> None:
    sio = siox.Server(serve_client=True, client_bundle_dir=NODE_DIST)
    plain = (NODE_DIST / "socket.io.js").read_bytes()

    async def main() -> None:
        async with siox.serve(sio, port=0) as serving:
            status, headers, body = await native_get(
                serving.port, "/socket.io/socket.io.js", {"Accept-Encoding": "br, gzip"}
            )
            assert (status, headers["content-encoding"]) == (200, "gzip")
            assert gzip.decompress(body) == plain
            assert len(body) < len(plain) / 2
            _, headers, body = await native_get(
                serving.port, "/socket.io/socket.io.js", {"Accept-Encoding": "deflate"}
            )
            assert headers["content-encoding"] == "deflate"
            assert zlib.decompress(body) == plain
            status, headers, body = await native_get(
                serving.port, "/socket.io/socket.io.js", method="HEAD"
            )
            assert (status, body, int(headers["content-length"])) == (200, b"", len(plain))

    asyncio.run(main())


def test_other_paths_under_the_endpoint_are_not_files_and_the_engine_still_answers() -> None:
    sio = siox.Server(serve_client=True, client_bundle_dir=NODE_DIST)

    async def main() -> None:
        async with siox.serve(sio, port=0) as serving:
            for path in ("/socket.io/package.json", "/socket.io/../socket.io.js", "/socket.io.js"):
                status, _, _ = await native_get(serving.port, path)
                assert status == 404, path
            status, _, body = await native_get(serving.port, "/socket.io/?EIO=4&transport=polling")
            assert status == 200
            assert body.startswith(b"0{")

    asyncio.run(main())


def test_without_serve_client_nothing_is_served() -> None:
    async def main() -> None:
        async with siox.serve(siox.Server(), port=0) as serving:
            status, _, _ = await native_get(serving.port, "/socket.io/socket.io.min.js")
            assert status == 404

    asyncio.run(main())


def test_a_custom_path_serves_the_files_under_it_through_asgi() -> None:
    app = siox.ASGIApp(siox.Server(path="/rt", serve_client=True, client_bundle_dir=NODE_DIST))

    async def main() -> None:
        for name in CLIENT_FILES:
            status, headers, body = await asgi_get(app, f"/rt/{name}")
            assert status == 200, name
            assert body == (NODE_DIST / name).read_bytes()
            assert headers["etag"] == ETAG
        status, _, body = await asgi_get(app, "/rt/socket.io.esm.min.js", {"If-None-Match": ETAG})
        assert (status, body) == (304, b"")
        status, _, _ = await asgi_get(app, "/socket.io/socket.io.js")
        assert status == 404

    asyncio.run(main())


def test_asgi_head_and_compression() -> None:
    app = siox.ASGIApp(siox.Server(serve_client=True, client_bundle_dir=NODE_DIST))
    plain = (NODE_DIST / "socket.io.min.js").read_bytes()

    async def main() -> None:
        status, headers, body = await asgi_get(
            app, "/socket.io/socket.io.min.js", {"Accept-Encoding": "gzip"}
        )
        assert (status, headers["content-encoding"]) == (200, "gzip")
        assert gzip.decompress(body) == plain
        status, headers, body = await asgi_get(app, "/socket.io/socket.io.min.js", method="HEAD")
        assert (status, body, int(headers["content-length"])) == (200, b"", len(plain))

    asyncio.run(main())


def fake_package(root: Path, version: str = "4.9.9") -> Path:
    dist = root / "node_modules" / "socket.io-client" / "dist"
    dist.mkdir(parents=True)
    for name in ("socket.io.js", "socket.io.min.js", "socket.io.esm.min.js"):
        (dist / name).write_text(f"// {name}\n")
    (dist.parent / "package.json").write_text(json.dumps({"version": version}))
    return dist


def test_the_bundle_is_found_in_node_modules_above_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = fake_package(tmp_path)
    deep = tmp_path / "app" / "src"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    sio = siox.Server(serve_client=True)
    bundle = sio.engine.client_bundle
    assert bundle is not None
    assert bundle.directory == dist
    assert bundle.etag == '"4.9.9"'
    assert bundle.files == {"socket.io.js", "socket.io.min.js", "socket.io.esm.min.js"}


def test_the_package_folder_itself_may_be_given(tmp_path: Path) -> None:
    dist = fake_package(tmp_path)
    sio = siox.Server(serve_client=True, client_bundle_dir=str(dist.parent))
    assert sio.engine.client_bundle is not None
    assert sio.engine.client_bundle.directory == dist


def test_an_odd_version_gives_a_digest_etag_not_a_broken_header(tmp_path: Path) -> None:
    dist = fake_package(tmp_path, version='4.0"\r\nX-Evil: 1')
    sio = siox.Server(serve_client=True, client_bundle_dir=dist)
    assert sio.engine.client_bundle is not None
    etag = sio.engine.client_bundle.etag
    assert re.fullmatch(r'"[0-9a-f]{16}"', etag), etag


def test_a_missing_bundle_fails_at_construction_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(FileNotFoundError, match=r"no socket.io-client bundle in .*npm install"):
        siox.Server(serve_client=True, client_bundle_dir=tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"not found in node_modules \(looked in .*npm"):
        siox.Server(serve_client=True)


def test_asgi_serves_the_bundle_before_the_other_app_and_forwards_the_rest() -> None:
    forwarded: list[str] = []

    async def other(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        forwarded.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"other"})

    sio = siox.Server(serve_client=True, client_bundle_dir=NODE_DIST)
    app = siox.ASGIApp(sio, other_asgi_app=other)

    async def main() -> None:
        status, _, body = await asgi_get(app, "/socket.io/socket.io.min.js")
        assert (status, body) == (200, (NODE_DIST / "socket.io.min.js").read_bytes())
        status, _, body = await asgi_get(app, "/index.html")
        assert (status, body) == (200, b"other")
        status, _, body = await asgi_get(app, "/socket.io/not-a-bundle.js")
        assert (status, body) == (200, b"other")

    asyncio.run(main())
    assert forwarded == ["/index.html", "/socket.io/not-a-bundle.js"]
