"""HTTP/1.1 and WebSocket for siox's native server and client (sans-I/O codecs).

Modules:

* `siox.http.http11`: request parser (server) and response parser (client), on httptools;
  its events live in `siox.http.http11_events`.
* `siox.http.messages`: response and request writers.
* `siox.http.query`: request-target splitting and query-string parsing.
* `siox.http.handshake`: the WebSocket opening handshake, both roles.
* `siox.http.websocket`: the RFC 6455 connection (framing, limits, closing handshake); its
  events live in `siox.http.websocket_events`, message reassembly in `siox.http.reassembly`.
* `siox.http.frames`: frame and close-payload encoding; shareable server frames.
* `siox.http.deflate`: permessage-deflate negotiation and compression (RFC 7692).

Only `siox.http.http11` needs httptools; the rest is standard library only, so this package
imports nothing eagerly.
"""

from __future__ import annotations
