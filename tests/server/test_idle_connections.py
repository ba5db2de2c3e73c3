"""Idle connections on the native front end are closed: nobody can hold file descriptors forever.

A new connection that sends no request within ``request_timeout`` gets 408 and is closed; a
kept-alive connection idle for ``keep_alive_timeout`` between requests is closed (Node's
``keepAliveTimeout``); a long-polling GET waiting for data is not idle.
"""

from __future__ import annotations

import asyncio

import siox
from rawpeer import _read_response, eio_url, open_polling
from siox.http.messages import write_request


def serve(app: siox.Server) -> siox.Serving:
    return siox.serve(app, host="127.0.0.1", port=0, request_timeout=0.4, keep_alive_timeout=0.3)


async def read_until_eof(reader: asyncio.StreamReader, timeout: float) -> bytes:
    data = b""
    async with asyncio.timeout(timeout):
        while chunk := await reader.read(65536):
            data += chunk
    return data


async def test_a_connection_that_never_sends_a_request_gets_408_and_is_closed() -> None:
    sio = siox.Server()
    async with serve(sio) as serving:
        reader, writer = await asyncio.open_connection("127.0.0.1", serving.port)
        try:
            data = await read_until_eof(reader, 3.0)
        finally:
            writer.close()
        assert data.startswith(b"HTTP/1.1 408")


async def test_a_kept_alive_connection_idle_after_its_response_is_closed() -> None:
    sio = siox.Server()
    async with serve(sio) as serving:
        port = serving.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            request = write_request("GET", eio_url("transport=polling"), [("Host", "x")], None)
            writer.write(request)
            response = await asyncio.wait_for(_read_response(reader), 3.0)
            assert response.status == 200
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert await read_until_eof(reader, 3.0) == b""  # closed, silently
            assert loop.time() - started >= 0.25
        finally:
            writer.close()


async def test_a_waiting_long_poll_is_not_idle() -> None:
    sio = siox.Server()
    async with serve(sio) as serving:
        port = serving.port
        sid, _ = await open_polling(port)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            get = write_request("GET", eio_url(f"transport=polling&sid={sid}"), [("Host", "x")])
            writer.write(get)
            await asyncio.sleep(0.8)  # longer than both timeouts: the GET still waits
            await sio.emit("late")  # nobody joined "/": the GET is answered by the next ping
            await asyncio.sleep(0)
            assert not reader.at_eof()
        finally:
            writer.close()


async def test_many_silent_connections_are_all_released() -> None:
    sio = siox.Server()
    async with serve(sio) as serving:
        writers = []
        for _ in range(50):
            _, writer = await asyncio.open_connection("127.0.0.1", serving.port)
            writers.append(writer)
        await asyncio.sleep(0.1)
        assert len(serving.connections) == 50
        for _ in range(40):
            if not serving.connections:
                break
            await asyncio.sleep(0.05)
        assert len(serving.connections) == 0
        for writer in writers:
            writer.close()
