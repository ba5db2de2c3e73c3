"""What the acks and binary scenarios must report, shared by the default and msgpack tests."""

from __future__ import annotations

from typing import Any


def check_acks(result: dict[str, Any]) -> None:
    assert result["client_to_server"] == ["a", 1, None, {"x": [1, 2]}]
    assert result["client_to_server_empty"] == []
    timeout = result["client_timeout"]
    assert isinstance(timeout, dict)
    assert timeout["error"] == "operation has timed out"
    assert result["server_to_client"] == {"ok": [{"got": [1, "two"]}, "extra"]}
    assert result["server_to_client_empty"] == {"ok": []}
    assert result["server_timeout"] == {"error": "timeout"}
    elapsed = result["server_timeout_elapsed_ms"]
    assert isinstance(elapsed, int)
    assert 250 <= elapsed < 3000, "the server's 300 ms ack timeout fired at the wrong time"
    assert result["still_usable"] == ["after"]


def check_binary(result: dict[str, Any]) -> None:
    assert result["event_echo"] == [
        b"\x01\x02\x03",
        {"nested": b"\x04\x05", "list": [b"", "text", 6]},
    ]
    assert result["ack_echo"] == [b"\x09\x08", {"b": b"\x07"}]
    assert result["big_ack_equal"] is True
    assert result["server_to_client"] == {"ok": [b"\x01\x02\xff"]}
