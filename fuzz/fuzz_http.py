"""Fuzz the HTTP request parsing as the native server uses it, through the Engine.IO decision.

Bytes cut in random pieces go to `RequestParser` (httptools/llhttp underneath); each request
head it yields goes through what the server does with one: the target split and the query
parsed, the WebSocket upgrade validated (with permessage-deflate offers), and the Engine.IO
request decision. Only `HttpError` events and `ProtocolError` refusals are allowed. See fuzzkit
for how to run it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fuzzkit import main

from siox.engineio.handshake import Transport, validate_request
from siox.engineio.session import EngineSession
from siox.errors import ProtocolError
from siox.http.deflate import DeflateOptions
from siox.http.handshake import accept_upgrade, is_websocket_upgrade
from siox.http.http11 import ParserState, RequestParser
from siox.http.http11_events import Request

_SESSIONS = {"abc": EngineSession("abc", transport=Transport.POLLING, now=0.0)}
_DEFLATE = DeflateOptions()
_DONE = (ParserState.UPGRADED, ParserState.FAILED)  # the parser takes no more input
# At most this many reads per input: a long input is read in longer pieces (cuts still fall
# anywhere), so one input costs O(pieces) parser calls, not O(bytes).
_MAX_READS = 64

# The first byte of an input is how many bytes each read takes (1 to 64, more for an input over
# 64 reads long); the request follows.
SEEDS = [
    b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: a\r\n"
    b"Content-Length: 2\r\n\r\n40",
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; "
    b"client_max_window_bits\r\n\r\n",
    b"GET /socket.io/?EIO=3&transport=polling&j=0&b64=1 HTTP/1.0\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"GET /?%zz=%&&a=1&a=2+3 HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n",
]
SEEDS = [bytes([step]) + seed for seed in SEEDS for step in (0, 7, 63)]


def _decide(head: Request) -> None:
    headers: dict[str, str] = {}
    for name, value in head.headers:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        headers[key] = headers[key] + ", " + text if key in headers else text
    query = dict(parse_qsl(head.query, keep_blank_values=True))  # as the engine reads it
    upgrade = is_websocket_upgrade(head.headers)
    if upgrade:
        try:
            accept_upgrade(head.method, head.headers, deflate=_DEFLATE)
        except ProtocolError:
            pass
    try:
        validate_request(
            head.method,
            query,
            headers,
            is_websocket_upgrade=upgrade,
            sessions=_SESSIONS,
            allow_eio3=True,
        )
    except ProtocolError:
        pass


def check(data: bytes) -> None:
    if not data:
        return
    step = max(1 + data[0] % 64, -(-(len(data) - 1) // _MAX_READS))
    parser = RequestParser(max_header_size=2048, max_body_size=4096, request_timeout=5.0)
    now = 0.0
    for at in range(1, len(data), step):
        now += 0.5
        for event in parser.receive_data(data[at : at + step], now):
            if isinstance(event, Request):
                _decide(event)
        if parser.state in _DONE:
            return
    parser.handle_timer(now + 10)
    parser.receive_eof()


if __name__ == "__main__":
    main(check, SEEDS, __doc__)
