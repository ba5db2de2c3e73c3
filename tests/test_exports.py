"""The public namespace: what api.md names is importable from `siox`, documented, listed once."""

from __future__ import annotations

import siox
import siox.parser

API_NAMES = [
    "ASGIApp",
    "AckResults",
    "AckTimeout",
    "Client",
    "ConnectionRefused",
    "EngineServer",
    "NotConnected",
    "ProtocolError",
    "Recovery",
    "Server",
    "SioxError",
    "Socket",
    "SyncClient",
    "connect",
    "run",
    "serve",
]
PARSER_NAMES = ["Decoder", "Packet", "PacketType", "decode", "encode", "protocol", "types"]


def test_every_api_name_is_exported_and_documented() -> None:
    for name in API_NAMES:
        assert name in siox.__all__, name
        value = getattr(siox, name)
        assert getattr(value, "__doc__", None), f"{name} has no docstring"
    for name in PARSER_NAMES:
        assert name in siox.parser.__all__, name


def test_all_is_unique_and_resolves() -> None:
    assert len(set(siox.__all__)) == len(siox.__all__)
    for name in siox.__all__:
        assert hasattr(siox, name), name


def test_errors_share_one_root() -> None:
    for name in ("ProtocolError", "ConnectionRefused", "AckTimeout", "NotConnected"):
        assert issubclass(getattr(siox, name), siox.SioxError)
    assert issubclass(siox.AckTimeout, TimeoutError)
