"""ERROR packets of protocol 4 (socket.io 2.x), both roles, in memory (no I/O).

socket.io 4.8 (allowEIO3) and 2.x refuse a namespace with ``err.data || err.message``: the data
unless it is falsy *in JavaScript* (``0``, ``""``, ``false``, ``null``, ``NaN``; ``{}`` is
truthy there). A client of a 2.x server therefore reads an object payload as the
refusal's data (it is not the ``{"message", "data"}`` object of protocol 5).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from siox.socketio.connection import SocketConnection
from siox.socketio.events import ConnectRefused
from siox.socketio.parsers import resolve_parser


def connection(role: str) -> SocketConnection:
    parser = resolve_parser("default", protocol=4)
    return SocketConnection(parser, role=role, protocol=4, eio_sid="EIOSID")


@pytest.mark.parametrize(
    ("data", "wire"),
    [
        (None, '4/a,"no"'),
        (0, '4/a,"no"'),
        (0.0, '4/a,"no"'),
        ("", '4/a,"no"'),
        (False, '4/a,"no"'),
        (math.nan, '4/a,"no"'),
        ({}, "4/a,{}"),
        ("why", '4/a,"why"'),
        # Truthy, but not an ERROR payload socket.io-parser accepts: the message (the
        # reference would send the data as it is).
        ([], '4/a,"no"'),
        (1, '4/a,"no"'),
        (True, '4/a,"no"'),
        ({"reason": "x"}, '4/a,{"reason":"x"}'),
    ],
)
def test_refusal_sends_the_data_unless_it_is_falsy_in_javascript(data: Any, wire: str) -> None:
    assert connection("server").refuse("/a", "no", data) == [wire]


@pytest.mark.parametrize(
    ("wire", "refused"),
    [
        ('4/a,"Invalid namespace"', ConnectRefused("/a", "Invalid namespace", "Invalid namespace")),
        ('4/a,{"reason":"bad"}', ConnectRefused("/a", "", {"reason": "bad"})),
        (
            '4/a,{"message":"Invalid namespace"}',  # what socket.io 4.8 sends to 2.x clients
            ConnectRefused("/a", "Invalid namespace", {"message": "Invalid namespace"}),
        ),
    ],
)
def test_a_protocol_4_client_reads_the_error_payload_as_the_data(
    wire: str, refused: ConnectRefused
) -> None:
    client = connection("client")
    client.connect("/a")
    assert client.receive(wire) == [refused]
