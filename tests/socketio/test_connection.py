"""The sans-I/O Socket.IO connection: a server-role and a client-role pair talking in memory."""

from __future__ import annotations

import pytest

from siox.errors import InvalidPacket
from siox.socketio.connection import InvalidState, SocketConnection
from siox.socketio.events import (
    AckReceived,
    Connected,
    ConnectRefused,
    ConnectRequested,
    Disconnected,
    DisconnectRequested,
    EventReceived,
)
from siox.socketio.parsers import DefaultParser, resolve_parser


def pair(protocol: int = 5) -> tuple[SocketConnection, SocketConnection]:
    parser = resolve_parser("default", protocol=protocol)
    server = SocketConnection(parser, role="server", protocol=protocol, eio_sid="EIOSID")
    client = SocketConnection(parser, role="client", protocol=protocol, eio_sid="EIOSID")
    return server, client


def deliver(frames: list[str | bytes], to: SocketConnection) -> list[object]:
    events: list[object] = []
    for frame in frames:
        events.extend(to.receive(frame))
    return events


def test_connect_accept_event_ack_and_disconnect_round_trip() -> None:
    server, client = pair()
    assert deliver(client.connect("/chat", {"token": "t"}), server) == [
        ConnectRequested("/chat", {"token": "t"})
    ]
    assert deliver(server.accept("/chat", "SID", "PID"), client) == [
        Connected("/chat", "SID", "PID")
    ]
    assert deliver(client.event("/chat", ["hi", b"\x01"], 3), server) == [
        EventReceived("/chat", ["hi", b"\x01"], 3)
    ]
    assert deliver(server.ack("/chat", 3, ["ok"]), client) == [AckReceived("/chat", 3, ["ok"])]
    assert deliver(client.disconnect("/chat"), server) == [DisconnectRequested("/chat")]
    assert "/chat" not in server.connected


def test_connect_without_auth_gives_an_empty_dict() -> None:
    server, client = pair()
    assert deliver(client.connect("/"), server) == [ConnectRequested("/", {})]


def test_refusal_reaches_the_client_with_message_and_data() -> None:
    server, client = pair()
    deliver(client.connect("/admin"), server)
    frames = server.refuse("/admin", "nope", {"x": 1})
    assert frames == ['4/admin,{"message":"nope","data":{"x":1}}']
    assert deliver(frames, client) == [ConnectRefused("/admin", "nope", {"x": 1})]
    assert "/admin" not in server.pending


def test_server_disconnect_reaches_the_client() -> None:
    server, client = pair()
    deliver(client.connect("/"), server)
    deliver(server.accept("/", "S"), client)
    assert deliver(server.disconnect("/"), client) == [Disconnected("/")]


@pytest.mark.parametrize(
    "frame",
    ['2["x"]', '3["x"]', "1"],
)
def test_packets_for_namespaces_not_joined_are_invalid_state(frame: str) -> None:
    server, _ = pair()
    with pytest.raises(InvalidState):
        server.receive(frame)


def test_second_connect_to_the_same_namespace_is_invalid_state() -> None:
    server, client = pair()
    deliver(client.connect("/"), server)
    with pytest.raises(InvalidState):
        server.receive("0")
    server.accept("/", "S")
    with pytest.raises(InvalidState):
        server.receive("0")


def test_client_may_not_send_connect_error() -> None:
    server, _ = pair()
    with pytest.raises(InvalidState):
        server.receive('4{"message":"x"}')


def test_event_without_payload_is_invalid() -> None:
    server, client = pair()
    deliver(client.connect("/"), server)
    server.accept("/", "S")
    with pytest.raises(InvalidPacket):
        server.receive("2")


def test_parse_errors_propagate_as_invalid_packet() -> None:
    server, _ = pair()
    with pytest.raises(InvalidPacket):
        server.receive("2{}")


def test_client_ignores_packets_for_unknown_namespaces() -> None:
    _, client = pair()
    assert client.receive('2/x,["a"]') == []
    assert client.receive('0/x,{"sid":"s"}') == []


def test_client_rejects_a_connect_reply_without_sid() -> None:
    _, client = pair()
    client.connect("/")
    with pytest.raises(InvalidPacket):
        client.receive("0{}")


def test_protocol_4_splits_the_query_into_auth_and_derives_socket_ids() -> None:
    server, client = pair(protocol=4)
    assert server.open_implicit({"EIO": "3"}) == ConnectRequested("/", {"EIO": "3"})
    assert client.connect("/") == []  # the main namespace is implicit
    assert deliver(server.accept("/", "ignored"), client) == [Connected("/", "EIOSID", None)]
    assert server.receive("0/admin?token=1&x=,") == [
        ConnectRequested("/admin", {"token": "1", "x": ""})
    ]
    assert server.refuse("/admin", "Not authorized") == ['4/admin,"Not authorized"']
    assert server.refuse("/admin", "m", {"code": 1}) == ['4/admin,{"code":1}']
    assert client.legacy_socket_id("/admin") == "/admin#EIOSID"


def test_protocol_4_client_hears_error_packets_as_refusals() -> None:
    _, client = pair(protocol=4)
    client.connect("/admin")
    assert client.receive('4/admin,"Not authorized"') == [
        ConnectRefused("/admin", "Not authorized", "Not authorized")
    ]


def test_msgpack_parser_is_selectable() -> None:
    parser = resolve_parser("msgpack")
    server = SocketConnection(parser, role="server")
    client = SocketConnection(parser, role="client")
    frames = client.connect("/", {"a": 1})
    assert all(isinstance(f, bytes) for f in frames)
    assert deliver(frames, server) == [ConnectRequested("/", {"a": 1})]


def test_unknown_parser_and_role_are_value_errors() -> None:
    with pytest.raises(ValueError, match="parser"):
        resolve_parser("yaml")
    with pytest.raises(ValueError, match="protocol 5"):
        resolve_parser("msgpack", protocol=4)
    with pytest.raises(ValueError, match="role"):
        SocketConnection(DefaultParser(), role="peer")
