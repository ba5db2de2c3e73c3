"""docs/security.md lists every limit of `siox.options` with its true default."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from siox import options

PAGE = Path(__file__).resolve().parents[2] / "docs" / "security.md"

LIMITS: list[tuple[str, Any]] = [
    *((f.name, getattr(options.DEFAULT_LIMITS, f.name)) for f in fields(options.Limits)),
    *(
        (name, getattr(options.DEFAULT_ENGINE_OPTIONS, name))
        for name in (
            "ping_interval",
            "ping_timeout",
            "upgrade_timeout",
            "close_timeout",
            "cors_allowed_origins",
            "allow_request",
            "per_message_deflate",
        )
    ),
    ("connect_timeout", options.DEFAULT_SERVER_OPTIONS.connect_timeout),
    (
        "cleanup_empty_child_namespaces",
        options.DEFAULT_SERVER_OPTIONS.cleanup_empty_child_namespaces,
    ),
    ("Recovery.max_disconnection_duration", options.Recovery().max_disconnection_duration),
    *(
        (name, getattr(options.DEFAULT_SERVE_OPTIONS, name))
        for name in ("request_timeout", "keep_alive_timeout", "shutdown_timeout")
    ),
    *(
        (f"Caps.{f.name}", getattr(options.DEFAULT_CAPS, f.name))
        for f in fields(options.Caps)
        if f.name != "on_event_overflow"  # a choice, not a bound: named in its row
    ),
    ("max_payload", options.DEFAULT_CLIENT_OPTIONS.max_payload),
    ("timeout", options.DEFAULT_CLIENT_OPTIONS.timeout),
    ("max_pending_acks", options.DEFAULT_CLIENT_OPTIONS.max_pending_acks),
]


def spelled(value: Any) -> str:
    """How the page writes a default: 1,000,000 bytes; 25 s; `None`; `True`."""
    if isinstance(value, bool) or value is None or isinstance(value, tuple):
        return f"`{value}`"
    if isinstance(value, float):
        return f"{value:g} s"
    return f"{value:,}"


def rows() -> dict[str, list[list[str]]]:
    """Table rows (server and client tables alike) by the option(s) named in their first cell."""
    found: dict[str, list[list[str]]] = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        for name in re.findall(r"`([\w.]+)`", cells[0]):
            found.setdefault(name, []).append(cells)
    return found


@pytest.mark.parametrize(("name", "default"), LIMITS, ids=[name for name, _ in LIMITS])
def test_the_security_page_gives_each_limit_with_its_default(name: str, default: Any) -> None:
    table = rows()
    assert name in table, f"docs/security.md has no row for `{name}`"
    for row in table[name]:
        assert spelled(default) in row[1], (
            f"docs/security.md: `{name}` defaults to {spelled(default)}, the page says {row[1]}"
        )
        assert "tests/" in row[-1], f"docs/security.md: no test named for `{name}`"
