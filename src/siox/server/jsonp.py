r"""JSONP long-polling framing for Engine.IO v3 sessions: the GET script and the POST form.

A browser without CORS-capable XHR (engine.io-client 3.x with ``forceJSONP``, or no XHR at all)
polls with ``<script src="...&j=<index>">`` and sends with a hidden form. The session's
payloads are the usual v3 text payloads (binary as base64: a JSONP session is served as
``b64=1``); only their envelope differs:

* GET: the answer is the script ``___eio[<index>]("<payload as a JavaScript string>");``, served
  as ``text/javascript`` (the reference sends ``text/plain``, which a browser refuses to run
  under ``X-Content-Type-Options: nosniff``). The string literal is pure ASCII: every non-ASCII
  character (U+2028 and U+2029, which end a JavaScript line, included) and ``<``, ``>``, ``&``
  are ``\u`` escapes, so no payload can end the literal or the script. The index is written
  from the validated integer (`siox.engineio.handshake` refuses a ``j`` that is not 1-9 decimal
  digits with a 400), never from the request text: nothing the client sent is reflected.
* POST: the body is the form ``d=<payload>`` (``application/x-www-form-urlencoded``); the client
  wrote each newline of the payload as the two characters ``\n`` and each ``\n`` already in it
  as ``\`` + newline (some browsers turn a newline in a form field into CRLF), so the server
  undoes both, as engine.io 6.6 does. A form without exactly one ``d`` field carries nothing
  (the reference ignores it too).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

__all__ = ["JSONP_CONTENT_TYPE", "jsonp_form_payload", "jsonp_script"]

#: The Content-Type of a JSONP poll response.
JSONP_CONTENT_TYPE = "text/javascript; charset=UTF-8"

_HTML_SENSITIVE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}
# A newline the client escaped as "\n"; group 1 set when it was an escaped "\n" ("\\n").
_ESCAPED_NEWLINE = re.compile(r"(\\)?\\n")
_DOUBLY_ESCAPED_NEWLINE = re.compile(r"\\\\n")


def jsonp_script(index: int, payload: str) -> str:
    """The JavaScript a JSONP poll answers with: ``___eio[index]("...");``.

    Args:
        index: the JSONP callback index (the validated ``j`` of the handshake).
        payload: the v3 text payload.
    """
    literal = json.dumps(payload, ensure_ascii=True).translate(_HTML_SENSITIVE)
    return f"___eio[{index}]({literal});"


def _unescape_newline(match: re.Match[str]) -> str:
    return match.group(0) if match.group(1) else "\n"


def jsonp_form_payload(body: bytes) -> str | None:
    """The payload a JSONP POST body (``d=...``) carries, or None when it carries none.

    Args:
        body: the raw form-encoded body.
    """
    fields = parse_qs(
        body.decode("utf-8", "replace"), keep_blank_values=True, errors="replace"
    ).get("d")
    if fields is None or len(fields) != 1:
        return None
    data = _ESCAPED_NEWLINE.sub(_unescape_newline, fields[0])
    return _DOUBLY_ESCAPED_NEWLINE.sub(lambda _: "\\n", data)
