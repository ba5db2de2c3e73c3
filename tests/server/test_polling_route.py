"""Long-polling on kept-alive connections: the per-connection route and the reused response head.

The native front end remembers, per TCP connection, the last polling request that passed
validation, and serves the same request again without revalidating it (a fast path); it also
reuses the previous response's head. These tests drive the real server with raw keep-alive
HTTP/1.1 connections, with the fast paths on and off, and check that what changes between two
identical requests (the session closed, a header, the body size) is still seen.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

import siox
import siox.fastpaths
from rawpeer import HttpResult, _read_response, eio_url, running
from siox.http.http11 import Body, EndOfMessage, ResponseParser

pytestmark = pytest.mark.parametrize("fast", [True, False], ids=["fast", "general"])


@pytest.fixture(autouse=True)
def _fast_paths(fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(siox.fastpaths, "ENABLED", fast)


class KeptAlive:
    """One keep-alive connection, one request at a time, as a polling client uses it."""

    def __init__(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.port = port
        self.reader = reader
        self.writer = writer

    async def request(
        self, method: str, target: str, body: bytes = b"", headers: str = ""
    ) -> HttpResult:
        head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{headers}"
        if method == "POST":
            head += f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        return await asyncio.wait_for(_read_response(self.reader), 5)


@asynccontextmanager
async def connection(port: int) -> AsyncIterator[KeptAlive]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield KeptAlive(port, reader, writer)
    finally:
        writer.close()


def echo_server(**options: object) -> siox.Server:
    sio = siox.Server(**options)  # type: ignore[arg-type]

    @sio.on("echo")
    def echo(socket: siox.Socket, *args: object) -> tuple[object, ...]:
        return args

    return sio


async def open_session(get: KeptAlive, post: KeptAlive) -> str:
    """Handshake and CONNECT to "/" on the two connections; the path with the sid."""
    answer = await get.request("GET", eio_url("transport=polling"))
    sid = json.loads(answer.text.split("\x1e")[0][1:])["sid"]
    path = eio_url(f"transport=polling&sid={sid}")
    assert (await post.request("POST", path, b"40")).text == "ok"
    connected = await get.request("GET", path)
    assert connected.text.startswith("40")
    return path


async def test_requests_repeated_on_kept_alive_connections_are_each_answered() -> None:
    async with (
        running(echo_server(cors_allowed_origins="*")) as port,
        connection(port) as get,
        connection(port) as post,
    ):
        path = await open_session(get, post)
        for i in range(5):
            pending = asyncio.ensure_future(get.request("GET", path))
            await asyncio.sleep(0.01)
            body = f'42{i}["echo","x{i}"]'.encode()
            answer = await post.request("POST", path, body)
            assert answer.status == 200
            assert answer.text == "ok"
            assert answer.headers["content-type"] == "text/html"
            assert answer.headers["content-length"] == "2"
            polled = await pending
            assert polled.status == 200
            assert polled.headers["content-type"] == "text/plain; charset=UTF-8"
            assert polled.text == f'43{i}["x{i}"]'
            assert polled.headers["content-length"] == str(len(polled.body))


async def test_the_answers_handlers_give_at_once_to_one_post_leave_in_one_get_answer(
    fast: bool,
) -> None:
    async with running(echo_server()) as port, connection(port) as get, connection(port) as post:
        path = await open_session(get, post)
        pending = asyncio.ensure_future(get.request("GET", path))
        await asyncio.sleep(0.01)
        batch = b'421["echo",1]\x1e422["echo",2]\x1e423["echo",3]'
        assert (await post.request("POST", path, batch)).text == "ok"
        answers = [(await pending).text]
        if fast:  # the handlers ran inline, while the session was corked
            assert answers == ["431[1]\x1e432[2]\x1e433[3]"]
        else:  # they ran on the connection's runner, after the POST: the same acks, in order
            while len("\x1e".join(answers).split("\x1e")) < 3:
                answers.append((await get.request("GET", path)).text)
            assert "\x1e".join(answers) == "431[1]\x1e432[2]\x1e433[3]"


async def test_a_repeated_request_for_a_session_closed_meanwhile_is_refused() -> None:
    sio = echo_server()
    async with running(sio) as port, connection(port) as get, connection(port) as post:
        path = await open_session(get, post)
        sid = path.rsplit("=", 1)[1]
        pending = asyncio.ensure_future(get.request("GET", path))
        await asyncio.sleep(0.01)
        sio.engine.sessions[sid].close()
        assert (await pending).text.endswith("1")  # the close packet ends the poll
        again = await get.request("GET", path)
        assert again.status == 400
        assert again.json() == {"code": 1, "message": "Session ID unknown"}
        refused = await post.request("POST", path, b'42["echo"]')
        assert refused.status == 400
        assert refused.json()["code"] == 1


async def test_a_repeated_target_with_another_origin_is_validated_again() -> None:
    sio = echo_server(cors_allowed_origins=["https://good.example"])
    async with running(sio) as port, connection(port) as get, connection(port) as post:
        path = await open_session(get, post)
        origin = "Origin: https://good.example\r\n"
        pending = asyncio.ensure_future(get.request("GET", path, headers=origin))
        await asyncio.sleep(0.01)
        answer = await post.request("POST", path, b'421["echo",1]', headers=origin)
        assert answer.headers["access-control-allow-origin"] == "https://good.example"
        assert (await pending).headers["access-control-allow-origin"] == "https://good.example"
        bad = await post.request(
            "POST", path, b'422["echo",2]', headers="Origin: https://evil.example\r\n"
        )
        assert bad.status == 400
        assert bad.json() == {"code": 3, "message": "Bad request"}


async def test_a_post_over_the_size_limit_is_refused_after_smaller_ones() -> None:
    sio = echo_server(max_http_buffer_size=64)
    async with running(sio) as port, connection(port) as get, connection(port) as post:
        path = await open_session(get, post)
        pending = asyncio.ensure_future(get.request("GET", path))
        await asyncio.sleep(0.01)
        assert (await post.request("POST", path, b'421["echo",1]')).text == "ok"
        assert (await pending).text == "431[1]"
        pending = asyncio.ensure_future(get.request("GET", path))
        await asyncio.sleep(0.01)
        big = b'422["echo","' + b"x" * 64 + b'"]'
        assert (await post.request("POST", path, big)).status == 413
        assert (await pending).text == "1"  # the session is closed


async def read_bodies(reader: asyncio.StreamReader, count: int) -> list[bytes]:
    """The bodies of the next ``count`` responses (which may come in one read)."""
    parser = ResponseParser()
    bodies: list[bytes] = []
    chunks: list[bytes] = []
    while len(bodies) < count:
        data = await reader.read(65536)
        assert data, "closed"
        for event in parser.receive_data(data):
            if isinstance(event, Body):
                chunks.append(event.data)
            elif isinstance(event, EndOfMessage):
                bodies.append(b"".join(chunks))
                chunks = []
    return bodies


async def post_bytes(port: int, path: str, length: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {length}\r\n\r\n"
    )
    return head.encode() + body


async def test_a_body_arriving_in_pieces_after_learnt_requests_is_read_whole() -> None:
    async with running(echo_server()) as port, connection(port) as get, connection(port) as post:
        path = await open_session(get, post)
        for i in range(3):  # the POST connection's requests, read whole
            pending = asyncio.ensure_future(get.request("GET", path))
            await asyncio.sleep(0.01)
            assert (await post.request("POST", path, f'42{i}["echo",{i}]'.encode())).text == "ok"
            assert (await pending).text == f"43{i}[{i}]"
        pending = asyncio.ensure_future(get.request("GET", path))
        await asyncio.sleep(0.01)
        body = b'427["echo","split"]'
        data = await post_bytes(port, path, str(len(body)), body)
        post.writer.write(data[:-5])
        await asyncio.sleep(0.05)
        post.writer.write(data[-5:])
        answer = await asyncio.wait_for(_read_response(post.reader), 5)
        assert answer.text == "ok"
        assert (await pending).text == '437["split"]'


async def test_pipelined_posts_after_learnt_requests_are_each_answered_in_order() -> None:
    async with running(echo_server()) as port, connection(port) as get, connection(port) as post:
        path = await open_session(get, post)
        for i in range(3):
            pending = asyncio.ensure_future(get.request("GET", path))
            await asyncio.sleep(0.01)
            assert (await post.request("POST", path, f'42{i}["echo",{i}]'.encode())).text == "ok"
            assert (await pending).text == f"43{i}[{i}]"
        pending = asyncio.ensure_future(get.request("GET", path))
        await asyncio.sleep(0.01)
        one, two = b'425["echo",5]', b'426["echo",6]'
        post.writer.write(
            await post_bytes(port, path, str(len(one)), one)
            + await post_bytes(port, path, str(len(two)), two)
        )
        assert await asyncio.wait_for(read_bodies(post.reader, 2), 5) == [b"ok", b"ok"]
        answers = [(await pending).text]
        if answers[0] != "435[5]\x1e436[6]":  # the second POST came after the GET's answer
            answers.append((await get.request("GET", path)).text)
        assert "\x1e".join(answers) == "435[5]\x1e436[6]"


@pytest.mark.parametrize(
    ("length", "status"), [("+13", 400), ("0x0d", 400), ("", 400), ("13 ", 200), ("013", 200)]
)
async def test_an_odd_length_after_learnt_requests_is_read_as_the_parser_reads_it(
    length: str, status: int
) -> None:
    async with running(echo_server()) as port, connection(port) as get, connection(port) as post:
        path = await open_session(get, post)
        for i in range(3):
            pending = asyncio.ensure_future(get.request("GET", path))
            await asyncio.sleep(0.01)
            assert (await post.request("POST", path, f'42{i}["echo",{i}]'.encode())).text == "ok"
            assert (await pending).text == f"43{i}[{i}]"
        post.writer.write(await post_bytes(port, path, length, b'429["echo",9]'))
        answer = await asyncio.wait_for(_read_response(post.reader), 5)
        assert answer.status == status
