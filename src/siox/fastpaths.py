"""The switch of siox's protocol fast paths: ``SIOX_NO_FAST_PATHS=1`` turns every one of them off.

A fast path is an early branch inside the method of its general path, never a second
implementation beside it: it handles the common case with fewer steps and must give exactly
what the general path gives. Each one tests `ENABLED` as its first condition, so with the switch
off the general path runs for every input; CI runs the engine, Socket.IO and server tests both
ways, and ``tests/engineio/test_fastpath_differential.py`` and ``tests/core`` feed random inputs
to sessions with the fast paths on and off and require identical events and outputs.

The fast paths (docs/design.md, "The per-message path", says where each sits):

* `siox.http.websocket.WebSocketConnection.receive_data`: whole data frames in one read (and a
  large one cut by the read's end, collected read by read), either role: a client's masked
  frames, a server's unmasked ones;
* `siox.engineio.session.EngineSession.receive_ws_frame`: a plain MESSAGE on a steady
  WebSocket, once the deadlines due at ``now`` have fired;
* `siox.engineio.client_session.ClientEngineSession.receive_ws_frame`: the same for the client
  role (v4), handed to the client's driver decoded (`siox.client.engine.EngineClient`);
* `siox.engineio.machine.SessionCore.send_direct`: a message framed for direct writing on a
  steady WebSocket with nothing queued;
* `siox.engineio.machine.SessionCore.send`: ASCII text queued for an open session without the
  checks it cannot fail;
* `siox.engineio.payload.encode_payload`: a v4 payload of text packets joined at once;
* `siox.engineio.session.EngineSession.receive_polling_post`: a v4 POST body of MESSAGE records
  on an open polling session, once no deadline is due;
* `siox.server.native.HttpProtocol._serve_now`: a long-polling request like the connection's
  last validated one (`siox.server.http_serving.PollingRoute`) served without revalidating;
  `HttpProtocol.data_received`: a read that is that request's learnt bytes again (only its
  ``Content-Length`` and body differ) served without the HTTP parser;
  `siox.server.http_serving.ResponseHeads.serialise`: the previous response's head reused for
  one with the same status and headers;
* `siox.server.engine_socket.EngineSocket._report_all`: a polled message of a Socket.IO
  connection decoded and handed to its receiver, as a WebSocket message is;
* `siox.socketio.connection.SocketConnection.receive`: a text EVENT/ACK without `Packet`
  (either role);
* `siox.parser.default.Parser.encode_fields`: an EVENT/ACK of the main namespace (compiled when
  the optional speedups are built, and then also called by `Parser.encode` directly);
* `siox.parser.default.Parser.parse_text`: an EVENT/ACK text (binary header or not) of the main
  namespace (compiled likewise, and then also called by `Decoder.feed` directly);
* `siox.server.driver.ConnectionDriver.dispatch`: a handler called inline when nothing is
  queued before it and no event middleware applies (otherwise: on the ordered runner);
* `siox.engineio.query.parse_query`: a handshake query with nothing to unquote.

`ENABLED` is read once, when this module is first imported; tests flip it with
``monkeypatch.setattr(siox.fastpaths, "ENABLED", False)`` (every fast path reads the module
attribute at call time). The variable counts as set unless it is empty or ``0``.
"""

from __future__ import annotations

import os

__all__ = ["ENABLED"]

#: Whether the protocol fast paths may run (False when ``SIOX_NO_FAST_PATHS`` is set).
ENABLED: bool = os.environ.get("SIOX_NO_FAST_PATHS", "") in ("", "0")
