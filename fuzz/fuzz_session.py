"""Fuzz the Engine.IO session state machines with random operations and clock moves.

The input is a program: each byte picks an operation on a server `EngineSession` and a
client `ClientSession` (polling GET and POST bodies, WebSocket attach, probe and messages,
transport closes, sends, pauses, timers with the clock moved forward by an amount the input
chooses, closes); the bytes that follow feed it. After each operation the outputs and events
are collected as a driver does (``drain()``, or ``data_to_send()`` and ``events_received()``).
Only `ProtocolError` refusals (which the session documents) may escape; after every step the
session must stay consistent: a closed session has nothing left to send but its last outputs,
the clock never runs backwards, and `Closed` is reported at most once. See fuzzkit for how to
run it.
"""

from __future__ import annotations

from collections.abc import Sequence

from fuzzkit import main

from siox.engineio.client_session import ClientEngineSession
from siox.engineio.events import Closed
from siox.engineio.handshake import Transport
from siox.engineio.outputs import PollRequest
from siox.engineio.session import EngineSession
from siox.errors import ProtocolError

SEEDS = [
    bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) + b"4hello\x1e2\x1e3" * 3,
    bytes([4, 5, 6, 6, 7, 1, 0, 8, 200, 9]) + b"2probe5",
    bytes([12, 13, 14, 15, 16, 0, 3, 200, 200, 200]),
    b"\x02\x0040\x1e1\x01\x0b\x08\xff\x08\xff\x08\xff",
]

_OPS = 17
_TRANSPORTS = (Transport.POLLING, Transport.WEBSOCKET)
_TEXT_OPS = frozenset((4, 7, 13, 14))  # the operations that take the chunk as text


def check(data: bytes) -> None:
    if not data:
        return
    start = Transport.WEBSOCKET if data[0] & 1 else Transport.POLLING
    eio = 3 if data[0] & 2 else 4
    now = 0.0
    server = EngineSession(
        "s", transport=start, now=now, eio=eio, ping_interval=1.0, ping_timeout=1.0,
        upgrade_timeout=2.0, close_timeout=2.0, max_payload=512, max_buffer_size=2048,
    )  # fmt: skip
    client = ClientEngineSession(transport=start, now=now, eio=eio, max_payload=512)
    closed_reports = 0
    client_get = False
    at = 1
    while at < len(data):
        op = data[at] % _OPS
        at += 1
        size = data[at] % 32 if at < len(data) else 0
        chunk = data[at + 1 : at + 1 + size]
        at += 1 + size
        text = chunk.decode("utf-8", "replace") if op in _TEXT_OPS else ""
        try:
            if op == 0:
                server.polling_get(now)
            elif op == 1:
                server.receive_polling_post(chunk, "text/plain", now)
            elif op == 2:
                server.receive_polling_post(chunk, "application/octet-stream", now)
            elif op == 3:
                server.attach_websocket(now)
            elif op == 4:
                server.receive_ws_frame(text, now)
            elif op == 5:
                server.receive_ws_frame(chunk, now, direct=bool(size & 1))
            elif op == 6:
                server.transport_closed(_TRANSPORTS[size & 1], now)
            elif op == 7:
                server.send(text.replace("\x1e", ""), volatile=bool(size & 1))
            elif op == 8:
                now += (data[at - 1] if at - 1 < len(data) else 1) / 50
                server.handle_timer(now)
                client.handle_timer(now)
            elif op == 9:
                server.pause_writing()
            elif op == 10:
                server.resume_writing(now)
            elif op == 11:
                server.close(now=now)
            elif op == 12:
                server.send_direct(chunk)
            elif op == 13:
                if client.transport is Transport.POLLING and client_get:
                    client_get = False  # only what the driver does: answer the GET it sent
                    client.receive_polling_response(chunk, None, now)
                else:
                    client.receive_ws_frame(text if size & 2 else chunk, now)
            elif op == 14:
                client.send(text.replace("\x1e", ""))
            elif op == 15:
                deadline = server.next_deadline()
                if deadline is not None and deadline > now:
                    now = deadline
                server.handle_timer(now)
            else:
                server.abort(now=now)
        except ProtocolError:
            pass
        except ValueError:  # documented for send(): a lone surrogate, a separator
            if op not in (7, 12, 14):
                raise
        server_events: Sequence[object]
        client_outputs: Sequence[object]
        if at & 1:  # the driver's pump: both queues in one call (None: both empty)
            drained = server.drain()
            server_events = drained[1] if drained is not None else ()
            drained_client = client.drain()
            client_outputs = drained_client[0] if drained_client is not None else ()
        else:
            server.data_to_send()
            server_events = server.events_received()
            client_outputs = client.data_to_send()
            client.events_received()
        for output in client_outputs:
            if isinstance(output, PollRequest):
                client_get = True
        for event in server_events:
            if isinstance(event, Closed):
                closed_reports += 1
        assert closed_reports <= 1
        if server.closed:
            assert server.buffered_amount == 0
            deadline = server.next_deadline()
            assert deadline is None, deadline


if __name__ == "__main__":
    main(check, SEEDS, __doc__)
