"""What an Engine.IO session asks its driver to put on the wire (the items of ``data_to_send()``).

The driver performs the items in order, right after the call that produced them. Server
sessions produce `PollingResponse`, `WebSocketSend` and `WebSocketClose`; client sessions
produce `PollRequest`, `PostRequest`, `OpenWebSocket`, `WebSocketSend` and `WebSocketClose`.
A session has at most one WebSocket attached at any time (the upgrade probe or the transport),
so the WebSocket items need no address: they are for the one the driver last attached.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BINARY_CONTENT_TYPE",
    "TEXT_CONTENT_TYPE",
    "OpenWebSocket",
    "Output",
    "PollRequest",
    "PollingResponse",
    "PostRequest",
    "Query",
    "WebSocketClose",
    "WebSocketSend",
]

#: Content-Type of a text polling payload (and of v4 client POSTs).
TEXT_CONTENT_TYPE = "text/plain; charset=UTF-8"
#: Content-Type of a v3 binary polling payload.
BINARY_CONTENT_TYPE = "application/octet-stream"

#: Query parameters of a client request, in order: ``(("EIO", "4"), ("transport", "polling"))``.
Query = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class PollingResponse:
    """Server: answer an HTTP long-polling request with status 200.

    As an item of ``data_to_send()`` it completes the pending GET; returned by a POST method it
    is the answer to that POST (``"ok"``, ``text/html``).

    Attributes:
        body: the response body (``str`` is sent as UTF-8).
        content_type: the Content-Type header value.
        compress: whether the body may be compressed (some packet in it allows it).
    """

    body: str | bytes
    content_type: str
    compress: bool = True


@dataclass(frozen=True, slots=True)
class WebSocketSend:
    """Send one WebSocket message: a text frame for ``str``, a binary frame for ``bytes``.

    Attributes:
        frame: the message.
        compress: whether the message may be compressed (permessage-deflate).
    """

    frame: str | bytes
    compress: bool = True


@dataclass(frozen=True, slots=True)
class WebSocketClose:
    """Close the attached WebSocket with this close code; the session has detached it.

    Attributes:
        code: the WebSocket close code (1000 normal, 1002 protocol error, 1008 policy,
            1009 too big).
    """

    code: int


@dataclass(frozen=True, slots=True)
class PollRequest:
    """Client: send a long-polling GET; feed the answer to ``receive_polling_response``.

    Attributes:
        query: the Engine.IO query parameters (the driver may add a cache-buster ``t``).
    """

    query: Query


@dataclass(frozen=True, slots=True)
class PostRequest:
    """Client: POST this payload; call ``polling_post_done`` when the server answered 200.

    Attributes:
        query: the Engine.IO query parameters.
        body: the request body.
        content_type: the Content-Type header value.
    """

    query: Query
    body: str | bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class OpenWebSocket:
    """Client: open a WebSocket with these query parameters; ``attach_websocket`` once open.

    Attributes:
        query: the Engine.IO query parameters.
    """

    query: Query


#: Anything ``data_to_send()`` returns.
Output = (
    PollingResponse | WebSocketSend | WebSocketClose | PollRequest | PostRequest | OpenWebSocket
)
