"""The switch of siox's protocol fast paths: ``SIOX_NO_FAST_PATHS=1`` turns every one of them off.

A fast path is an early branch inside the method of its general path, never a second
implementation beside it: it handles the common case with fewer steps and must give exactly
what the general path gives. Each one tests `ENABLED` as its first condition, so with the switch
off the general path runs for every input; CI runs the engine, Socket.IO and server tests both
ways, and ``tests/engineio/test_fastpath_differential.py`` feeds random inputs to sessions with
the fast paths on and off and requires identical events and outputs.

The fast paths (docs/design.md, "The per-message path", says where each sits):

* `siox.http.websocket.WebSocketConnection.receive_data`: whole data frames in one read (and a
  large one cut by the read's end, collected read by read);
* `siox.engineio.session.EngineSession.receive_ws_frame`: a plain MESSAGE on a steady
  WebSocket, once the deadlines due at ``now`` have fired;
* `siox.engineio.machine.SessionCore.send`: a message framed for direct writing on a steady
  WebSocket with nothing queued;
* `siox.socketio.connection.SocketConnection.receive`: a text EVENT/ACK without `Packet`;
* `siox.parser.default.Parser.encode_fields`: an EVENT/ACK of the main namespace;
* `siox.parser.default.Parser.parse_text`: an EVENT/ACK text (binary header or not) of the main
  namespace;
* `siox.server.driver.ConnectionDriver.dispatch`: a handler called inline when nothing is
  queued before it and no event middleware applies (otherwise: on the ordered runner).

`ENABLED` is read once, when this module is first imported; tests flip it with
``monkeypatch.setattr(siox.fastpaths, "ENABLED", False)`` (every fast path reads the module
attribute at call time). The variable counts as set unless it is empty or ``0``.
"""

from __future__ import annotations

import os

__all__ = ["ENABLED"]

#: Whether the protocol fast paths may run (False when ``SIOX_NO_FAST_PATHS`` is set).
ENABLED: bool = os.environ.get("SIOX_NO_FAST_PATHS", "") in ("", "0")
