"""Options in one place: `siox.options` holds every default, the constructors take typed keyword
options (a misspelled one is a TypeError naming the class called), parsers get the limits."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import siox
import siox.parser
import siox.parser.msgpack
from siox.errors import PayloadTooLarge, ProtocolError
from siox.options import (
    DEFAULT_CLIENT_OPTIONS,
    DEFAULT_ENGINE_OPTIONS,
    DEFAULT_LIMITS,
    DEFAULT_SERVER_OPTIONS,
    ClientOptions,
    EngineOptions,
    Limits,
    Recovery,
    ServerOptions,
)
from siox.parser import Packet, PacketType
from siox.socketio.parsers import DefaultParser, MsgpackParser, ObjectParser, resolve_parser

SRC = Path(siox.__file__).resolve().parent
BIG = b"\x01" * 1_500_000


def _keyword_options(func: Any) -> dict[str, inspect.Parameter]:
    return {
        name: p
        for name, p in inspect.signature(func).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


# -- the module ----------------------------------------------------------------------------------


def test_options_module_imports_only_the_standard_library() -> None:
    tree = ast.parse((SRC / "options.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, "siox.options imports nothing from siox"
            assert node.module is not None
            assert node.module.split(".")[0] in sys.stdlib_module_names | {"__future__"}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] in sys.stdlib_module_names
    code = (
        "import sys, siox\n"
        "before = set(sys.modules)\n"
        "import siox.options\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if m.split('.')[0] not in sys.stdlib_module_names))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "['siox.options']"


@pytest.mark.parametrize(
    "cls", [Limits, EngineOptions, Recovery, ServerOptions, ClientOptions], ids=lambda c: c.__name__
)
def test_option_objects_are_frozen_and_slotted(cls: type) -> None:
    instance = cls()
    assert not hasattr(instance, "__dict__")
    field = dataclasses.fields(instance)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(instance, field.name, getattr(instance, field.name))


def test_the_one_megabyte_default_is_written_once_in_src() -> None:
    spellings = re.compile(r"\b1_000_000\b|\b1000000\b|10\s*\*\*\s*6|\b1e6\b")
    hits = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted(SRC.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if spellings.search(line)
        and not line.lstrip().startswith(("#", "*", "-"))
        and '"""' not in line
    ]
    assert hits == ["options.py:" + str(_line_of("max_http_buffer_size: int = 1_000_000"))]


def _line_of(text: str) -> int:
    lines = (SRC / "options.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip() == text)


def test_core_defaults_are_read_from_the_options() -> None:
    from siox.engineio.client_session import DEFAULT_CLIENT_MAX_PAYLOAD
    from siox.engineio.machine import DEFAULT_MAX_BUFFER_SIZE
    from siox.engineio.packet import DEFAULT_MAX_PAYLOAD
    from siox.engineio.session import EngineSession
    from siox.http.http11 import DEFAULT_MAX_BODY_SIZE
    from siox.http.websocket import DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_MESSAGE_SIZE
    from siox.jsonbackend import DEFAULT_MAX_DEPTH

    size = DEFAULT_LIMITS.max_http_buffer_size
    assert DEFAULT_MAX_PAYLOAD == DEFAULT_MAX_BODY_SIZE == DEFAULT_MAX_MESSAGE_SIZE == size
    assert size == siox.parser.msgpack.DEFAULT_MAX_SIZE
    assert DEFAULT_MAX_DEPTH == siox.parser.msgpack.DEFAULT_MAX_DEPTH == DEFAULT_LIMITS.max_depth
    assert DEFAULT_LIMITS.max_attachments == siox.parser.DEFAULT_MAX_ATTACHMENTS
    assert DEFAULT_LIMITS.max_buffer_size == DEFAULT_MAX_BUFFER_SIZE
    assert DEFAULT_LIMITS.max_fragments == DEFAULT_MAX_FRAGMENTS
    assert DEFAULT_CLIENT_OPTIONS.max_payload == DEFAULT_CLIENT_MAX_PAYLOAD
    session = _keyword_options(EngineSession)
    for name in ("ping_interval", "ping_timeout", "upgrade_timeout", "close_timeout"):
        assert session[name].default == getattr(DEFAULT_ENGINE_OPTIONS, name), name
    assert session["max_payload"].default == size


# -- typed keyword options -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: siox.Server(ping_intervall=5), "Server"),  # type: ignore[call-arg]
        (lambda: siox.EngineServer(max_http_bufer_size=5), "EngineServer"),  # type: ignore[call-arg]
        (lambda: siox.Client("http://h", reconection=False), "Client"),  # type: ignore[call-arg]
        (lambda: siox.connect("http://h", wait_timout=1), "connect"),  # type: ignore[call-arg]
        (lambda: siox.SyncClient("http://h", reconection=False), "SyncClient"),
    ],
    ids=["Server", "EngineServer", "Client", "connect", "SyncClient"],
)
def test_a_misspelled_option_is_a_type_error_naming_the_class_called(call: Any, name: str) -> None:
    with pytest.raises(TypeError, match=rf"(?<![A-Za-z]){name}\b.*unexpected keyword") as info:
        call()
    assert "Engine" not in str(info.value) or name == "EngineServer"


def test_server_options_are_typed_keywords_whose_defaults_are_the_options_defaults() -> None:
    params = _keyword_options(siox.Server)
    engine, limits = DEFAULT_SERVER_OPTIONS.engine, DEFAULT_LIMITS
    for name, param in params.items():
        assert param.annotation is not inspect.Parameter.empty, name
        if hasattr(engine, name):
            assert param.default == getattr(engine, name), name
        elif hasattr(limits, name):
            assert param.default == getattr(limits, name), name
        elif name in ("connection_state_recovery", "parser", "adapter"):
            continue
        else:
            assert param.default == getattr(DEFAULT_SERVER_OPTIONS, name), name
    # every Engine.IO option of EngineServer is an option of Server too
    assert set(_keyword_options(siox.EngineServer)) <= set(params)
    assert siox.Server.__doc__ is not None
    for name in params:
        assert f"        {name}: " in siox.Server.__doc__, f"{name} is not documented"


def test_engine_server_defaults_are_the_engine_options_defaults() -> None:
    for name, param in _keyword_options(siox.EngineServer).items():
        source = DEFAULT_ENGINE_OPTIONS if hasattr(DEFAULT_ENGINE_OPTIONS, name) else DEFAULT_LIMITS
        assert param.default == getattr(source, name), name
        assert siox.EngineServer.__doc__ is not None
        assert f"        {name}: " in siox.EngineServer.__doc__, f"{name} is not documented"


def test_client_and_connect_take_exactly_the_client_options() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(ClientOptions)}
    client = _keyword_options(siox.Client)
    assert {name: p.default for name, p in client.items()} == fields
    connect = _keyword_options(siox.connect)
    own = {"namespace", "auth", "wait_timeout", "retry"}
    assert {name: p.default for name, p in connect.items() if name not in own} == fields
    for name, param in connect.items():
        if name not in own:
            assert param.annotation == client[name].annotation, name
    for func in (siox.Client, siox.connect):
        assert func.__doc__ is not None
        for name in _keyword_options(func):
            assert f"        {name}: " in func.__doc__, f"{func.__name__}: {name} undocumented"


def test_server_builds_its_engine_from_the_options_object() -> None:
    allow = lambda request: True  # noqa: E731
    sio = siox.Server(
        path="/rt",
        cors_allowed_origins=["http://a"],
        ping_interval=3.0,
        max_http_buffer_size=5_000_000,
        max_attachments=3,
        allow_request=allow,
        cookie="io",
        connection_state_recovery=True,
    )
    assert isinstance(sio.options, ServerOptions)
    assert sio.engine.options is sio.options.engine
    assert sio.options.engine.cors_allowed_origins == ("http://a",)
    assert sio.options.limits == Limits(max_http_buffer_size=5_000_000, max_attachments=3)
    assert sio.options.connection_state_recovery == Recovery()
    engine = sio.engine
    assert (engine.path, engine.ping_interval, engine.max_http_buffer_size) == ("/rt/", 3.0, 5e6)
    assert (engine.allow_request, engine.cookie) == (allow, "io")
    assert siox.Server().options == DEFAULT_SERVER_OPTIONS


def test_engine_server_from_options_matches_the_keywords() -> None:
    by_keywords = siox.EngineServer(ping_timeout=7.0, max_buffer_size=123, transports=["polling"])
    by_options = siox.EngineServer.from_options(
        None,
        EngineOptions(
            ping_timeout=7.0, transports=("polling",), limits=Limits(max_buffer_size=123)
        ),
    )
    assert by_keywords.options == by_options.options
    assert by_options.max_buffer_size == 123 and by_options.app is by_options


def test_client_from_options_round_trips() -> None:
    options = ClientOptions(reconnection=False, timeout=3.0, max_payload=7, parser="msgpack")
    client = siox.Client.from_options("http://h", options)
    assert client.options == options
    assert siox.Client("http://h").options == DEFAULT_CLIENT_OPTIONS


# -- parsers get the limits ----------------------------------------------------------------------


def _event(size: int) -> Packet:
    return Packet(PacketType.EVENT, "/", ["big", b"\x01" * size])


def test_msgpack_parser_decoders_get_the_configured_size_limit() -> None:
    message = siox.parser.msgpack.encode(_event(len(BIG)))[0]
    roomy = resolve_parser("msgpack", limits=Limits(max_http_buffer_size=5_000_000))
    assert roomy.new_decoder().feed(message)[0].data == ["big", BIG]
    with pytest.raises(PayloadTooLarge):
        resolve_parser("msgpack").new_decoder().feed(message)


def test_msgpack_parser_decoders_get_the_configured_depth_limit() -> None:
    deep: Any = 1
    for _ in range(10):
        deep = [deep]
    message = siox.parser.msgpack.encode(Packet(PacketType.EVENT, "/", ["e", deep]))[0]
    assert resolve_parser("msgpack").new_decoder().feed(message)
    with pytest.raises(ProtocolError):
        resolve_parser("msgpack", limits=Limits(max_depth=5)).new_decoder().feed(message)


def test_default_parser_gets_the_attachment_and_depth_limits() -> None:
    parser = resolve_parser("default", limits=Limits(max_attachments=2, max_depth=4))
    assert isinstance(parser, DefaultParser)
    with pytest.raises(ProtocolError):
        parser.new_decoder().feed('53-["e",1]')
    with pytest.raises(ProtocolError):
        parser.new_decoder().feed('2["e",[[[[1]]]]]')
    assert parser.new_decoder().feed('52-["e",1]') == []


def test_parser_modules_are_taken_as_their_names() -> None:
    limits = Limits(max_http_buffer_size=5_000_000)
    msgpack = resolve_parser(siox.parser.msgpack, limits=limits)
    assert isinstance(msgpack, MsgpackParser)
    assert msgpack.new_decoder().feed(siox.parser.msgpack.encode(_event(len(BIG)))[0])
    default = resolve_parser(siox.parser, protocol=4)
    assert isinstance(default, DefaultParser) and default.parser.protocol == 4


class _Shaped:
    """A third-party parser of the documented shape: module-like, limits by keyword."""

    seen: dict[str, Any] = {}

    @staticmethod
    def encode(packet: Packet) -> tuple[str, ...]:
        return (f"custom:{packet.data!r}",)

    class Decoder:
        def __init__(self, *, max_size: int = 1, other: int = 0) -> None:
            _Shaped.seen = {"max_size": max_size, "other": other}

        def feed(self, chunk: str | bytes) -> list[Packet]:
            return [Packet(PacketType.EVENT, "/", ["x"])]


def test_a_documented_shape_object_gets_the_limits_its_decoder_accepts() -> None:
    parser = resolve_parser(_Shaped(), limits=Limits(max_http_buffer_size=42))
    assert isinstance(parser, ObjectParser)
    parser.new_decoder()
    assert _Shaped.seen == {"max_size": 42, "other": 0}
    assert parser.encode(Packet(PacketType.EVENT, "/", [1])) == ["custom:[1]"]


class _NoFeed:
    @staticmethod
    def encode(packet: Packet) -> list[str]:
        return []

    class Decoder:
        pass


@pytest.mark.parametrize(
    "bad",
    [object(), 42, _NoFeed(), type("OnlyEncode", (), {"encode": staticmethod(lambda p: [])})()],
    ids=["object", "int", "decoder-without-feed", "no-Decoder"],
)
def test_a_wrong_parser_object_is_a_type_error_at_construction(bad: object) -> None:
    with pytest.raises(TypeError, match="parser"):
        siox.Server(parser=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="parser"):
        siox.Client("http://h", parser=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="parser"):
        siox.connect("http://h", parser=bad)  # type: ignore[arg-type,unused-awaitable]


def test_an_unknown_parser_name_is_still_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown parser"):
        siox.Server(parser="yaml")
    with pytest.raises(ValueError, match="unknown parser"):
        siox.Client("http://h", parser="yaml")


def test_msgpack_limits_out_of_range_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        siox.Server(parser="msgpack", max_depth=500)
