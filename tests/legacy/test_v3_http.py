"""Engine.IO v3 at the siox server, over raw HTTP and WebSocket: E04, H14, JSONP, b64, binary.

Reference behaviours checked here, where they differ from the notes:

* ``0:`` (E04 lists it as a parser error) is the empty packet list for npm engine.io-parser@2
  and engine.io 6.6: 200 ``ok``, the session lives on. The pinned reference wins (api.md).
* A malformed v3 body closes the session in siox and in engine.io 6.6 alike; siox answers 400
  (E04, and the same as its v4 answer), engine.io 6.6 answers 200 ``ok`` before closing.
* JSONP answers are ``text/javascript`` with ASCII-only string literals (engine.io 6.6 sends
  ``text/plain`` and escapes only U+2028/U+2029); the index must be decimal digits (H14,
  deliberately stricter: the reference strips the other characters).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from legacy.app import serving
from legacy.v3peer import (
    FORM,
    OCTETS,
    TEXT,
    V3_PATH,
    V3Polling,
    jsonp_form,
    jsonp_payload,
    read_payload,
    v3_binary_payload,
)
from rawpeer import RawWebSocket, http, websocket
from siox.engineio import utf16_length
from siox.server.jsonp import jsonp_form_payload, jsonp_script

# -- E04: malformed v3 payloads -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"99999:4a",  # length beyond the body
        b"3:4a",  # length beyond the body by one
        b"-1:4",  # negative length
        b":4",  # no length
        b"1a:4",  # not a number
        "2:4\ud800".encode("utf-8", "surrogatepass"),  # a lone surrogate (as CESU-8 bytes)
        b"2:4\xed\xa0\x80",  # the same, written out
        b"",  # an empty body is not a payload ("0:" is)
    ],
)
async def test_e04_malformed_v3_payload_is_refused_and_closes_the_session(body: bytes) -> None:
    async with serving() as (port, _, record):
        peer = V3Polling(port)
        await peer.open()
        result = await peer.post(body)
        assert result.status == 400
        after = await peer.get()
        assert (after.status, after.json()) == (400, {"code": 1, "message": "Session ID unknown"})
        # The server is unharmed: a new session works.
        fresh = V3Polling(port)
        await fresh.open()
        assert await fresh.receive() == ["0"]  # the implicit CONNECT to "/"
    assert record.errors == []


async def test_e04_lone_surrogate_in_a_binary_payload_text_record_is_refused() -> None:
    async with serving() as (port, _, _record):
        peer = V3Polling(port)
        await peer.open()
        body = b"\x00\x05\xff" + "4\ud800".encode("utf-8", "surrogatepass") + b"x"
        assert (await peer.post(body, OCTETS)).status == 400
        assert (await peer.get()).status == 400


async def test_e04_zero_colon_is_the_empty_packet_list_as_in_npm() -> None:
    # hostile-inputs E04 lists "0:" as a parser error; npm engine.io-parser@2 encodes an empty
    # packet list as "0:" and decodes it to no packets, and engine.io 6.6 keeps the session:
    # the reference wins (api.md, "Which behaviour is right").
    async with serving() as (port, _, _record):
        peer = V3Polling(port)
        await peer.open()
        result = await peer.post("0:")
        assert (result.status, result.text) == (200, "ok")
        assert await peer.receive() == ["0"]
        await peer.send('421["whoami"]')
        [ack] = await peer.receive()
        assert isinstance(ack, str) and ack.startswith('31[{"id":')


async def test_astral_characters_are_counted_in_utf16_units_both_ways() -> None:
    # The codec's lengths are checked against npm engine.io-parser@2 in
    # tests/engineio/test_interop_engineio_parser.py (test_v3_lengths_count_utf16_units_like_npm,
    # test_v3_payload_encoding_matches_npm); the real socket.io-client@2 round trip is in
    # test_v2_client.py. Here: the server's own requests and answers.
    async with serving() as (port, _, _record):
        peer = V3Polling(port)
        await peer.open()
        assert await peer.receive() == ["0"]
        packet = '421["echo","😀𝄞é"]'
        body = f"{utf16_length(packet)}:{packet}"
        assert body.startswith("19:") and len(packet) == 17  # two astral characters
        assert (await peer.post(body)).text == "ok"
        answer = (await peer.get()).text
        length, _, record = answer.partition(":")
        assert int(length) == len(record.encode("utf-16-le")) // 2
        assert record.startswith("431[") and json.loads(record[3:]) == ["😀𝄞é"]
        # A length counted in code points (Python's len) is refused.
        wrong = f"{len(packet)}:{packet}"
        assert (await peer.post(wrong)).status == 400


# -- H14: JSONP index -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "index", ["alert(1)", "1e9", "-1", "", "1%20", "0x1", "1000000000", "%D9%A1", "1%00"]
)
async def test_h14_a_jsonp_index_that_is_not_an_integer_is_refused(index: str) -> None:
    async with serving() as (port, _, _record):
        result = await http(port, "GET", f"{V3_PATH}&b64=1&j={index}")
        assert result.status == 400
        assert result.json() == {"code": 3, "message": "Bad request"}
        assert b"alert" not in result.body and b"___eio" not in result.body
        # On a live JSONP session too, for GET and POST; the session is not disturbed.
        peer = V3Polling(port, "&b64=1&j=2")
        await peer.open()
        assert (await peer.get(f"&j={index}")).status == 400
        assert (await peer.post(jsonp_form("1:6"), FORM, f"&j={index}")).status == 400
        assert await peer.receive() == ["0"]


async def test_h14_the_index_is_written_from_the_integer_never_from_the_request() -> None:
    async with serving() as (port, _, _record):
        result = await http(port, "GET", f"{V3_PATH}&j=007")
        assert result.text.startswith('___eio[7]("')  # not 007 (an octal literal in JS)


# -- JSONP polling --------------------------------------------------------------------------------


async def test_jsonp_handshake_and_polls_are_scripts() -> None:
    async with serving() as (port, _, _record):
        result = await http(port, "GET", f"{V3_PATH}&j=3")
        assert result.status == 200
        assert result.headers["content-type"] == "text/javascript; charset=UTF-8"
        assert result.headers["x-content-type-options"] == "nosniff"
        assert result.text.startswith('___eio[3]("') and result.text.endswith('");')
        payload = jsonp_payload(result)
        sid = json.loads(payload[payload.index("{") :])["sid"]
        poll = await http(port, "GET", f"{V3_PATH}&j=3&sid={sid}")
        assert poll.text == '___eio[3]("2:40");'


async def test_jsonp_post_form_carries_the_payload_with_escaped_newlines() -> None:
    async with serving() as (port, _, _record):
        peer = V3Polling(port, "&j=0")
        await peer.open()
        assert await peer.receive() == ["0"]
        # JSON text holds "\n" (backslash, n): the client doubles it in the form.
        packet = '421["echo","a\\nb","\u2028",{"k":"v w+x"}]'
        form = jsonp_form(f"{utf16_length(packet)}:{packet}")
        assert "%5C%5Cn" in form  # backslash, backslash, n
        post = await peer.post(form, FORM)
        assert (post.status, post.text) == (200, "ok")
        poll = await peer.get()
        assert poll.body.isascii()
        [ack] = read_payload(poll)
        assert isinstance(ack.data, str) and ack.data.startswith("31")
        assert json.loads(ack.data[2:]) == ["a\nb", "\u2028", {"k": "v w+x"}]


async def test_jsonp_binary_travels_as_base64_records() -> None:
    async with serving() as (port, _, _record):
        peer = V3Polling(port, "&j=1")  # no b64=1: a JSONP session is base64 anyway
        await peer.open()
        assert await peer.receive() == ["0"]
        await peer.send('42["send-binary"]')
        poll = await peer.get()
        assert jsonp_payload(poll).endswith("6:b4AAH/6:b4eHl62:b4")


async def test_jsonp_form_without_a_single_d_field_delivers_nothing() -> None:
    async with serving() as (port, _, _record):
        peer = V3Polling(port, "&j=0")
        await peer.open()
        for form in ("x=1", "d=1%3A6&d=1%3A6", ""):
            post = await peer.post(form, FORM)
            assert (post.status, post.text) == (200, "ok")  # ignored, as engine.io 6.6 does
        assert await peer.receive() == ["0"]
        bad = await peer.post(jsonp_form("3:4a"), FORM)
        assert bad.status == 400  # E04 through the form
        assert (await peer.get()).status == 400


async def test_jsonp_form_body_is_limited_as_received() -> None:
    async with serving(max_http_buffer_size=1000) as (port, _, _record):
        peer = V3Polling(port, "&j=0")
        await peer.open()
        # 900 characters of payload, 2700 bytes once percent-encoded: over the limit.
        assert (await peer.post("d=" + "%22" * 900, FORM)).status == 413
        assert (await peer.get()).status == 400  # the session is closed


@pytest.mark.parametrize(
    "payload",
    ["plain", "a\nb", "a\\nb", "a\\\\nb", "\\n\n\\n", "end\\", "\u2028 😀 é", "x=1&d=2+3%"],
)
def test_jsonp_form_payload_undoes_the_client_escaping(payload: str) -> None:
    assert jsonp_form_payload(jsonp_form(payload).encode()) == payload


@given(st.text(max_size=40).filter(lambda s: "\\\n" not in s))
def test_jsonp_form_round_trip(payload: str) -> None:
    # Lossy only for a backslash right before a newline, in engine.io 6.6 as here: the client's
    # escaping cannot express it.
    assert jsonp_form_payload(jsonp_form(payload).encode()) == payload


def test_jsonp_script_is_ascii_and_evaluates_to_the_payload() -> None:
    payload = '97:0{"a":"</script><!--&\u2028\u2029😀\\"\n'
    script = jsonp_script(12, payload)
    assert script.isascii()
    assert "<" not in script and ">" not in script and "&" not in script
    assert script.startswith("___eio[12](") and script.endswith(");")
    assert json.loads(script[len("___eio[12](") : -2]) == payload


# -- b64 and binary -------------------------------------------------------------------------------


async def test_binary_polling_payloads_without_b64() -> None:
    async with serving() as (port, _, _record):
        peer = V3Polling(port)
        await peer.open()
        assert await peer.receive() == ["0"]
        # A BINARY_EVENT with an ack id, posted in the binary payload format.
        body = v3_binary_payload('451-1["echo",{"_placeholder":true,"num":0}]', b"\x01\x02\xff")
        result = await peer.post(body, OCTETS)
        assert (result.status, result.text) == (200, "ok")
        poll = await peer.get()
        assert poll.headers["content-type"] == OCTETS
        assert poll.body == v3_binary_payload(
            '461-1[{"_placeholder":true,"num":0}]', b"\x01\x02\xff"
        )


async def test_b64_clients_get_base64_records_in_text_payloads() -> None:
    async with serving() as (port, _, _record):
        peer = V3Polling(port, "&b64=1")
        await peer.open()
        assert await peer.receive() == ["0"]
        await peer.send('42["send-binary"]')
        poll = await peer.get()
        assert poll.headers["content-type"] == "text/plain; charset=UTF-8"
        assert poll.text.endswith("6:b4AAH/6:b4eHl62:b4")
        assert read_payload(poll)[1].data == b"\x00\x01\xff"
        # A b64 client may still POST binary records in base64.
        await peer.send('451-2["echo",{"_placeholder":true,"num":0}]', "b4" + "3q0=")
        assert await peer.receive(2) == ['61-2[{"_placeholder":true,"num":0}]', b"\xde\xad"]


async def ws_open(port: int, query: str) -> RawWebSocket:
    peer = await websocket(port, f"/socket.io/?EIO=3&transport=websocket{query}")
    assert isinstance(peer, RawWebSocket), peer
    return peer


async def test_v3_websocket_binary_frames_carry_the_type_byte() -> None:
    async with serving() as (port, _, _record):
        peer = await ws_open(port, "")
        assert str(await peer.recv()).startswith("0{")
        assert await peer.recv() == "40"
        await peer.send('451-3["echo",{"_placeholder":true,"num":0}]')
        await peer.send(b"\x04\xca\xfe")
        assert await peer.recv() == '461-3[{"_placeholder":true,"num":0}]'
        assert await peer.recv() == b"\x04\xca\xfe"
        await peer.send('42["send-binary"]')
        assert str(await peer.recv()).startswith("453-")
        assert [await peer.recv() for _ in range(3)] == [b"\x04\x00\x01\xff", b"\x04xyz", b"\x04"]
        await peer.send(b"\xca\xfe")  # no type byte: not a v3 message
        assert await peer.closed() == 1002


async def test_v3_websocket_with_b64_gets_base64_text_frames() -> None:
    async with serving() as (port, _, _record):
        peer = await ws_open(port, "&b64=1")
        await peer.recv()
        assert await peer.recv() == "40"
        await peer.send('42["send-binary"]')
        assert str(await peer.recv()).startswith("453-")
        assert [await peer.recv() for _ in range(3)] == ["b4AAH/", "b4eHl6", "b4"]


@pytest.mark.parametrize(("ws_query", "expected"), [("", b"\x04xyz"), ("&b64=1", "b4eHl6")])
async def test_upgrade_takes_b64_from_the_websocket_request(
    ws_query: str, expected: str | bytes
) -> None:
    # socket.io-client 2.x in Node polls with b64=1 and upgrades without it (engine.io decides
    # per transport): after the upgrade it gets binary frames.
    async with serving() as (port, _, _record):
        polling = V3Polling(port, "&b64=1")
        await polling.open()
        assert await polling.receive() == ["0"]
        peer = await ws_open(port, f"&sid={polling.sid}{ws_query}")
        await peer.send("2probe")
        assert await peer.recv() == "3probe"
        await peer.send("5")
        await peer.send('42["send-binary"]')
        assert str(await peer.recv()).startswith("453-")
        frames = [await peer.recv() for _ in range(3)]
        assert frames[1] == expected  # the attachment b"xyz"


async def test_v3_text_payloads_are_text_plain_and_client_pings_get_pongs() -> None:
    async with serving() as (port, _, _record):
        peer = V3Polling(port)
        await peer.open()
        poll = await peer.get()
        assert poll.headers["content-type"] == "text/plain; charset=UTF-8"
        assert poll.text == "2:40"
        assert (await peer.post("1:2", TEXT)).text == "ok"  # a v3 client ping ...
        assert (await peer.get()).text == "1:3"  # ... answered with a pong
