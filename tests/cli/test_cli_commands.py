"""The client's command language: prompt lines and JSON lines, and how records are written."""

from __future__ import annotations

import json

import pytest

from siox.cli import build_parser, main
from siox.cli.commands import (
    Command,
    CommandError,
    parse_json_command,
    parse_text_command,
    parse_values,
    render_json,
    render_text,
)


def test_prompt_arguments_are_json_values_and_bare_words_are_strings() -> None:
    assert parse_values('1 "two words" {"a": [1, null]} bare true 2.5 123abc') == [
        1,
        "two words",
        {"a": [1, None]},
        "bare",
        True,
        2.5,
        "123abc",
    ]
    with pytest.raises(CommandError, match="invalid JSON"):
        parse_values('{"a": ')


def test_prompt_commands() -> None:
    assert parse_text_command("emit chat hi 1") == Command("emit", event="chat", args=["hi", 1])
    assert parse_text_command('ack "my event" [1]') == Command("ack", event="my event", args=[[1]])
    assert parse_text_command("wait news 2") == Command("wait", event="news", timeout=2.0)
    assert parse_text_command("ns /chat") == Command("namespace", namespace="/chat")
    assert parse_text_command("timeout 3") == Command("timeout", seconds=3.0)
    assert parse_text_command("listen off") == Command("listen", flag=False)
    assert parse_text_command("exit") == Command("quit")
    assert parse_text_command("   ") is None
    assert parse_text_command('{"emit": ["x"]}') == Command("emit", event="x")
    for bad in ("emit", "emit 1", "frobnicate", "sleep -1", "listen maybe", "namespace a b"):
        with pytest.raises(CommandError):
            parse_text_command(bad)


def test_json_commands() -> None:
    assert parse_json_command('{"emit": ["ev", 1, 2]}') == Command("emit", event="ev", args=[1, 2])
    assert parse_json_command('{"ack": ["ev"], "timeout": 5}') == Command(
        "ack", event="ev", timeout=5.0
    )
    assert parse_json_command('{"namespace": "/chat"}') == Command("namespace", namespace="/chat")
    assert parse_json_command('{"sleep": 0.5}') == Command("sleep", seconds=0.5)
    assert parse_json_command('{"quit": true}') == Command("quit")
    for bad in (
        "[1]",
        "nope",
        '{"emit": []}',
        '{"emit": [1]}',
        '{"emit": ["a"], "ack": ["b"]}',
        '{"emit": ["a"], "extra": 1}',
        '{"ack": ["a"], "timeout": "soon"}',
        '{"namespace": 3}',
    ):
        with pytest.raises(CommandError):
            parse_json_command(bad)


def test_records_are_one_json_line_with_binary_as_base64() -> None:
    line = render_json({"type": "event", "event": "file", "args": [b"\x00\x01", {"k": b"z"}]})
    assert "\n" not in line
    assert json.loads(line)["args"] == [{"$binary": "AAE="}, {"k": {"$binary": "eg=="}}]
    text = render_text({"type": "event", "namespace": "/", "event": "chat", "args": ["hi", 2]})
    assert text == '<- [/] chat "hi" 2'


def test_version_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    from siox import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"siox {__version__}"
    assert main([]) == 2
    args = build_parser().parse_args(["serve", "app:sio", "--port", "0", "--reload"])
    assert (args.app, args.port, args.reload, args.workers) == ("app:sio", 0, True, 1)


def test_the_siox_console_script_is_declared_and_installed() -> None:
    import tomllib
    from importlib.metadata import entry_points
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    assert tomllib.loads(pyproject.read_text())["project"]["scripts"] == {"siox": "siox.cli:main"}
    (script,) = entry_points(group="console_scripts", name="siox")
    assert script.load() is main
