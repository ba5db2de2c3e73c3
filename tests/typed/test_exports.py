"""The AsyncAPI and TypeScript exports, checked by the official schema and by ``tsc``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from siox.typed import asyncapi_document, typescript_interfaces
from siox.typed.export_cli import main
from typed.typed_app import build

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
TESTS_DIR = NODE_DIR.parent
ASYNCAPI_SCHEMA = NODE_DIR / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.0.0.json"
TSC = NODE_DIR / "node_modules" / ".bin" / "tsc"
CLIENT_TYPES = NODE_DIR / "node_modules" / "socket.io-client"


def _asyncapi_validator() -> jsonschema.Draft7Validator:
    if not ASYNCAPI_SCHEMA.exists():
        pytest.skip("needs npm @asyncapi/specs (scripts/install)")
    return jsonschema.Draft7Validator(json.loads(ASYNCAPI_SCHEMA.read_text()))


def test_the_asyncapi_document_is_valid_asyncapi_3() -> None:
    document = asyncapi_document(build(), title="typed app", version="2.1.0")
    _asyncapi_validator().validate(document)
    assert document["channels"]["main"]["address"] == "/"
    assert document["channels"]["shop"]["address"] == "/shop"
    operations = document["operations"]
    assert operations["main.chat.receive"]["reply"]["messages"] == [
        {"$ref": "#/channels/main/messages/chat.ack"}
    ]
    assert operations["main.chat.receive"]["description"] == "Post a message to a room."
    assert operations["main.ping_me.send"]["action"] == "send"
    assert document["channels"]["main"]["messages"]["ping_me"]["name"] == "ping me"
    assert "reply" not in operations["main.news.send"]
    schemas = document["components"]["schemas"]
    assert schemas["ChatMessage"]["required"] == ["room", "text"]
    assert schemas["Point"]["required"] == ["x", "y"]
    assert set(schemas) >= {
        "ChatMessage",
        "Receipt",
        "Point",
        "Profile",
        "Order",
        "NewsItem",
        "Mood",
    }


def test_the_validator_refuses_a_broken_document() -> None:
    document = asyncapi_document(build())
    document["operations"]["main.chat.receive"]["action"] = "consume"
    with pytest.raises(jsonschema.ValidationError):
        _asyncapi_validator().validate(document)


def _payload_validator(document: dict[str, Any], channel: str, message: str) -> Any:
    payload = document["channels"][channel]["messages"][message]["payload"]
    return jsonschema.Draft7Validator({"allOf": [payload], "components": document["components"]})


@pytest.mark.parametrize(
    ("message", "args", "valid"),
    [
        ("chat", [{"room": "r", "text": "t", "mood": "grumpy"}], True),
        ("chat", [{"room": "r"}], False),
        ("chat", [{"room": "r", "text": "t", "mood": "sad"}], False),
        ("move", [{"x": 1, "y": 2.5}], True),
        ("move", [{"x": 1, "y": 2}, 2, 3], False),
        ("mode", ["slow", 1, 2, 3], True),
        ("mode", ["slow", "x"], False),
        ("profile", [{"name": "a", "age": 3}], True),
        ("profile", [{"name": "a", "age": -3}], False),
        ("mode.ack", ["fast", 3], True),
    ],
)
def test_payload_schemas_accept_what_the_handlers_accept(
    message: str, args: list[Any], valid: bool
) -> None:
    document = asyncapi_document(build())
    assert _payload_validator(document, "main", message).is_valid(args) is valid


_CLIENT_TS = """
import { io, Socket } from "socket.io-client";
import type {
  ChatMessage, ClientToServerEvents, ServerToClientEvents,
  ShopClientToServerEvents, ShopServerToClientEvents,
} from "./events";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io("http://127.0.0.1:1");
const message: ChatMessage = { room: "r", text: "hi", mood: "happy" };
socket.emit("chat", message, (receipt) => { const n: number = receipt.length; void n; });
socket.emit("move", { x: 1, y: 2 }, (xy) => { const x: number = xy[0]; void x; });
socket.emit("move", { x: 1, y: 2, label: "p" }, 2, (xy) => { void xy; });
socket.emit("mode", "fast", 1, 2, 3, (mode, total) => { const t: number = total; void mode; void t; });
socket.emit("upload", "f", new Uint8Array([1, 2]), (size) => { const s: number = size; void s; });
socket.on("news", (item) => { const title: string = item.title; void title; });
socket.on("ping me", (n, callback) => callback(String(n + 1)));
const shop: Socket<ShopServerToClientEvents, ShopClientToServerEvents> = io("http://127.0.0.1:1/shop");
shop.on("shipped", (order) => { const q: number = order.quantity; void q; });
async function acks(): Promise<number> {
  const receipt = await socket.emitWithAck("chat", message);
  const counts = await shop.emitWithAck("order", { item: "tea", quantity: 1 });
  return receipt.length + (counts["tea"] ?? 0);
}
void acks;
// @ts-expect-error: text is required
socket.emit("chat", { room: "r" }, () => {});
// @ts-expect-error: "medium" is not a mode
socket.emit("mode", "medium", () => {});
// @ts-expect-error: the mood is an enum value
socket.emit("chat", { room: "r", text: "t", mood: "sad" }, () => {});
// @ts-expect-error: the server emits no such event
socket.on("nope", () => {});
// @ts-expect-error: a news item has no such field
socket.on("news", (item) => item.missing);
"""


def _tsc(folder: Path) -> subprocess.CompletedProcess[str]:
    config = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "target": "es2020",
            "module": "esnext",
            "moduleResolution": "bundler",
            "lib": ["es2020", "dom"],
            "types": [],
            "paths": {"socket.io-client": [str(CLIENT_TYPES)]},
        },
        "files": ["client.ts"],
    }
    (folder / "tsconfig.json").write_text(json.dumps(config))
    return subprocess.run(
        [str(TSC), "-p", str(folder / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_typescript_interfaces_type_check_with_socket_io_client(tmp_path: Path) -> None:
    if not TSC.exists():
        pytest.skip("needs npm typescript (scripts/install)")
    (tmp_path / "events.ts").write_text(typescript_interfaces(build()))
    (tmp_path / "client.ts").write_text(_CLIENT_TS)
    result = _tsc(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # and the check can fail: a call the interfaces forbid, without the expect-error marker
    (tmp_path / "client.ts").write_text(_CLIENT_TS + '\nsocket.emit("chat", { room: 1 });\n')
    result = _tsc(tmp_path)
    assert result.returncode != 0
    assert "client.ts" in result.stdout


def test_the_command_writes_either_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(TESTS_DIR)
    target = tmp_path / "app.json"
    assert main(["asyncapi", "typed.typed_app:app", "-o", str(target), "--version", "3.0"]) == 0
    document = json.loads(target.read_text())
    assert document["info"] == {
        "title": "typed.typed_app:app",
        "version": "3.0",
        "description": document["info"]["description"],
    }
    assert main(["typescript", "typed.typed_app:asgi"]) == 0  # the ASGI app wrapping it
    assert "export interface ClientToServerEvents {" in capsys.readouterr().out
    assert main(["typescript", "typed.typed_app:nothing"]) == 2
    assert main(["typescript", "no_colon"]) == 2
    assert "expected module:attribute" in capsys.readouterr().err
