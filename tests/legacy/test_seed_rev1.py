"""The seed's revision-1 statements, each with the test that shows where siox implements it.

siox's revision-1 codec is `siox.parser.rev1` (no transport or peer speaks revision 1); the
statements about connections survive unchanged in revision 4, which siox's server speaks to
socket.io 2.x clients on Engine.IO v3 sessions (``allow_eio3=True``), so they are shown here
on such a session, with a raw peer:

=====================================================  ==============================================
Seed statement                                         Test
=====================================================  ==============================================
"Current protocol revision: 1"                         parser/test_rev1.py::test_protocol_revision_is_1
"Encodes a Packet object as a string"                  parser/test_rev1.py::test_encode_to_a_string_and_decode_back,
                                                       ::test_round_trip
"Returns a Packet object for the given string"         the same
"If a parsing error occurs the returned packet is an   parser/test_rev1.py::test_a_parse_failure_returns_an_error_packet_instead_of_raising,
error object"                                          ::test_decode_is_total; on a session (revision 4
                                                       and socket.io 4.8 close it instead):
                                                       test_a_parse_error_on_a_v3_session_closes_it
"Array of packet type keys"; CONNECT(0) ... ERROR(4)   parser/test_rev1.py::test_types_are_the_five_packet_type_keys
"each packet always belongs to a given namespace"      test_packets_are_multiplexed_by_namespace
"a connection attempt to the / namespace is assumed"   test_the_main_namespace_is_joined_without_a_connect_packet
"additional CONNECT packets ... to arbitrary           test_connect_to_another_namespace_is_answered_with_connect
namespace URIs"; "the server responds with a CONNECT"
"the server can respond with an ERROR packet ...       test_a_refused_namespace_is_answered_with_an_error_packet
user-defined" (data: Mixed)
"an EVENT packet with an id field, an ACK packet is    test_events_with_ids_are_acknowledged_both_ways;
expected" (data Array, id Number)                      parser/test_rev1.py::test_encode_to_a_string_and_decode_back
=====================================================  ==============================================
"""

from __future__ import annotations

import json

from legacy.app import serving
from legacy.v3peer import V3Polling
from siox.parser import Packet, PacketType, rev1


async def test_the_main_namespace_is_joined_without_a_connect_packet() -> None:
    async with serving() as (port, _, record):
        peer = V3Polling(port)
        await peer.open()
        assert await peer.receive() == ["0"]  # the CONNECT reply for "/", nothing sent
        assert peer.sid in record.auth  # the connect handler ran, socket id = Engine.IO sid
        await peer.send('427["whoami"]')
        [ack] = await peer.receive()
        assert isinstance(ack, str) and ack.startswith("37[")
        assert json.loads(ack[2:])[0]["id"] == peer.sid


async def test_connect_to_another_namespace_is_answered_with_connect() -> None:
    async with serving() as (port, _, record):
        peer = V3Polling(port)
        await peer.open()
        await peer.receive()
        await peer.send("40/chat?room=red&token=x%20y")
        assert await peer.receive() == ["0/chat,"]  # no payload, no sid: revision 4
        assert record.auth[f"/chat#{peer.sid}"] == {"room": "red", "token": "x y"}


async def test_a_refused_namespace_is_answered_with_an_error_packet() -> None:
    async with serving() as (port, _, _record):
        peer = V3Polling(port)
        await peer.open()
        await peer.receive()
        await peer.send("40/private?token=wrong", "40/private-plain", "40/nope")
        replies = [str(reply) for reply in await peer.receive(3)]
        assert sorted(replies) == sorted(
            [
                '4/private,{"reason":"bad token"}',  # user-defined data (err.data)
                '4/private-plain,"go away"',  # falsy data: the message (err.data || err.message)
                '4/nope,{"message":"Invalid namespace"}',  # as socket.io 4.8 (2.x: the string)
            ]
        )
        # The seed's own codec reads them as ERROR packets with their data.
        decoded = {rev1.decode(reply).nsp: rev1.decode(reply) for reply in replies}
        assert {packet.type for packet in decoded.values()} == {PacketType.CONNECT_ERROR}
        assert decoded["/private"] == Packet(
            PacketType.CONNECT_ERROR, "/private", {"reason": "bad token"}
        )
        await peer.send("40/private?token=secret")
        assert await peer.receive() == ["0/private,"]  # the same namespace may be asked again


async def test_events_with_ids_are_acknowledged_both_ways() -> None:
    async with serving() as (port, _, _record):
        peer = V3Polling(port)
        await peer.open()
        await peer.receive()
        await peer.send('4212["echo",{"a":[1,"b"]},null]')
        assert await peer.receive() == ['312[{"a":[1,"b"]},null]']
        # The server asks with an id; the client's ACK carries it back.
        await peer.send('4213["ask","question","q"]')
        [question] = await peer.receive()
        assert isinstance(question, str) and question.startswith("2")
        ack_id = question[1 : question.index("[")]
        assert json.loads(question[len(ack_id) + 1 :]) == ["question", "q"]
        await peer.send(f'43{ack_id}["answer",42]')
        assert await peer.receive() == ['313["answer",42]']


async def test_packets_are_multiplexed_by_namespace() -> None:
    async with serving() as (port, _, _record):
        peer = V3Polling(port)
        await peer.open()
        await peer.receive()
        await peer.send("40/chat")
        await peer.receive()
        await peer.send('42/chat,1["whoami"]', '422["whoami"]')
        first, second = await peer.receive(2)
        assert isinstance(first, str) and isinstance(second, str)
        assert first.startswith("3/chat,1[")
        assert json.loads(first[len("3/chat,1") :])[0]["id"] == f"/chat#{peer.sid}"
        assert json.loads(second[2:])[0]["id"] == peer.sid
        await peer.send("41/chat")  # leave /chat only; "/" keeps working
        await peer.send('423["echo",1]')
        assert await peer.receive() == ["33[1]"]


async def test_a_parse_error_on_a_v3_session_closes_it() -> None:
    # Revision 1's decoder returned an ERROR packet and went on; socket.io 2.x and 4.8 close
    # the connection on a packet they cannot decode, and so does siox.
    assert rev1.decode("2{bad") == rev1.parser_error()
    async with serving() as (port, _, _record):
        peer = V3Polling(port)
        await peer.open()
        await peer.receive()
        await peer.send("42{bad")
        result = await peer.get()
        assert (result.status, result.text) == (200, "1:1")  # the close packet
        assert (await peer.get()).status == 400
