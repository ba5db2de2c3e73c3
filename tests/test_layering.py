"""The layers of siox, as a table of allowed imports, checked on the source and at run time.

`RULES` maps a siox package or module to what it may import: other siox packages/modules, the
third-party packages it may use, and the standard-library modules it must not touch. A module
follows the rule of the longest key that is its name or a dotted prefix of it (``siox`` alone
covers only the top-level ``siox/__init__.py``); a module may always import its own package.

- The sans-I/O core (`CORE`) imports only the standard library minus I/O, clocks and
  concurrency (`NOT_IN_CORE`), other core modules its row names, and the optional speedups.
- `siox.adapters` (the adapter contract) may add asyncio, never the asyncio layers.
- The asyncio layers (`IO_LAYERS`) sit on top: server and client do not import each other, the
  ASGI front end uses the server.

Imports under ``if TYPE_CHECKING:`` count like any other: a type-only import still makes a lower
layer name (and so depend on) the API of an upper one, and it is where import cycles start. The
top-level ``siox`` facade may therefore name every layer (it re-exports them lazily); what it
loads when imported is checked separately.

Two checks read the table. The source check resolves every import statement (absolute or
relative, at module level or inside a function) of every module. The run-time check imports each
module below the asyncio layers in a fresh interpreter and inspects what got loaded, so
imports the source check cannot see (``importlib``, a standard-library module that loads
``socket``) are caught too. To add a package, add its row; a row for a package that does not
exist yet checks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from importgraph import loaded_by, source_imports, walk, where

SRC = Path(__file__).resolve().parents[1] / "src" / "siox"

NOT_IN_CORE = frozenset(
    {
        "asyncio",
        "concurrent",
        "multiprocessing",
        "select",
        "selectors",
        "signal",
        "socket",
        "ssl",
        "subprocess",
        "threading",
        "time",
    }
)
CORE = (
    "siox._asgi_types",
    "siox._version",
    "siox.callables",
    "siox.core",
    "siox.caps",
    "siox.engineio",
    "siox.errors",
    "siox.fastpaths",
    "siox.http",
    "siox.jsonbackend",
    "siox.options",
    "siox.parser",
    "siox.socketio",
    "siox.typed",
)
IO_LAYERS = ("siox.asgi", "siox.client", "siox.server", "siox.workers")


@dataclass(frozen=True)
class Rule:
    """What the modules of one siox package (or module) may import."""

    siox: tuple[str, ...] = ()  # other siox packages/modules (and everything under them)
    third_party: tuple[str, ...] = ()  # top-level names
    not_stdlib: frozenset[str] = field(default=frozenset())  # top-level names


def core(*siox: str, third_party: tuple[str, ...] = ()) -> Rule:
    """A rule for the sans-I/O core: no I/O, clock or concurrency module."""
    return Rule(siox, third_party, NOT_IN_CORE)


RULES: dict[str, Rule] = {
    "siox": Rule((*CORE, "siox.adapters", *IO_LAYERS)),  # the facade, lazy re-exports
    "siox._asgi_types": core(),
    "siox._version": core(),
    "siox.callables": core(),
    "siox.caps": core(),  # token buckets, per-source counts, log gates (issue 14 caps)
    "siox.errors": core(),
    "siox.options": core(),  # every default, written once: the standard library only
    "siox.fastpaths": core(),  # the SIOX_NO_FAST_PATHS switch, read once at import
    "siox.jsonbackend": core("siox.errors", "siox.options", "siox.parser", third_party=("orjson",)),
    "siox.parser": core("siox.errors", "siox.fastpaths", "siox.jsonbackend", "siox.options"),
    "siox.parser.msgpack": core(
        "siox.errors", "siox.options", "siox.parser", third_party=("msgpack",)
    ),
    "siox.engineio": core("siox.errors", "siox.fastpaths", "siox.options"),
    "siox.socketio": core(
        "siox.errors", "siox.fastpaths", "siox.jsonbackend", "siox.options", "siox.parser"
    ),
    "siox.http": core("siox.errors", "siox.fastpaths", "siox.options"),
    # the core connection objects: one per peer, composing the protocol layers
    "siox.core": core(
        "siox.engineio",
        "siox.errors",
        "siox.fastpaths",
        "siox.http",
        "siox.options",
        "siox.parser",
        "siox.socketio",
    ),
    "siox.http.http11": core(
        "siox.errors", "siox.http", "siox.options", third_party=("httptools",)
    ),
    # typed events: annotations -> checks, JSON Schema, AsyncAPI/TypeScript (pydantic and
    # msgspec are recognised through sys.modules, never imported)
    "siox.typed": core(),
    "siox.adapters": Rule(CORE),
    # the cluster wire format (notepack) and the Redis adapter: optional extras, never imported
    # by siox.adapters itself
    "siox.adapters.wire": Rule((*CORE, "siox.adapters"), third_party=("msgpack",)),
    "siox.adapters.redis": Rule((*CORE, "siox.adapters"), third_party=("redis",)),
    "siox.adapters.redis_bus": Rule((*CORE, "siox.adapters"), third_party=("redis",)),
    "siox.adapters.messages": Rule((*CORE, "siox.adapters"), third_party=("msgpack",)),
    "siox.adapters.collision": Rule((*CORE, "siox.adapters"), third_party=("redis",)),
    "siox.adapters.sharded": Rule((*CORE, "siox.adapters"), third_party=("redis",)),
    "siox.adapters.streams": Rule((*CORE, "siox.adapters"), third_party=("redis",)),
    "siox.adapters.streams_emitter": Rule((*CORE, "siox.adapters"), third_party=("redis",)),
    "siox.server": Rule((*CORE, "siox.adapters"), third_party=("uvloop",)),
    # `Server.instrument` loads the Admin UI's server side on demand (a lazy facade, as `siox`)
    "siox.server.server": Rule(
        (*CORE, "siox.adapters", "siox.server", "siox.admin", "siox.metrics", "siox.otel"),
        third_party=("uvloop",),
    ),
    # the Admin UI's server side: an observer of the server; bcrypt with the siox[admin] extra
    "siox.admin": Rule((*CORE, "siox.adapters", "siox.server"), third_party=("bcrypt",)),
    # Prometheus metrics: an observer of the server; prometheus-client with siox[metrics]
    "siox.metrics": Rule(
        (*CORE, "siox.adapters", "siox.server"), third_party=("prometheus_client",)
    ),
    # OpenTelemetry spans: an observer and a tracer of the server; opentelemetry-api with
    # siox[otel]
    "siox.otel": Rule(
        (*CORE, "siox.adapters", "siox.server"),
        third_party=(
            "opentelemetry",
            "opentelemetry.trace",
            "opentelemetry.trace.propagation.tracecontext",
        ),
    ),
    "siox.client": Rule(CORE),
    "siox.asgi": Rule(("siox._asgi_types", "siox.errors", "siox.options", "siox.server")),
    # several processes behind one port (siox.run(workers=N)): above the native server
    "siox.workers": Rule((*CORE, "siox.adapters", "siox.server"), third_party=("uvloop",)),
    # the `siox` command (and `python -m siox`): on top of the server, its workers and the client
    "siox.cli": Rule((*CORE, "siox.server", "siox.workers", "siox.client")),
    "siox.__main__": Rule(("siox.cli",)),
    # test helpers for users: a server and in-memory clients, above everything but the client
    "siox.testing": Rule((*CORE, "siox.adapters", "siox.server")),
}

MODULES = walk(SRC, "siox")


def rule_key(module: str) -> str | None:
    """The key of the row that governs ``module`` (None: no row does)."""
    if module == "siox":
        return module
    keys = [k for k in RULES if k != "siox" and (module == k or module.startswith(f"{k}."))]
    return max(keys, key=len, default=None)


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def violations(module: str, source: str) -> list[str]:
    """Every import in ``source`` (the text of ``module``) that its row does not allow."""
    key = rule_key(module)
    assert key is not None, f"no row of RULES covers {module}"
    rule = RULES[key]
    package = MODULES.get(module) == SRC.joinpath(*module.split(".")[1:], "__init__.py")
    found = []
    for item in source_imports(source, module, package=package, known=MODULES):
        kind, top = where(item.target), item.target.partition(".")[0]
        if kind == "siox":
            ok = within(item.target, key) or any(within(item.target, p) for p in rule.siox)
        elif kind == "stdlib":
            ok = top not in rule.not_stdlib
        else:
            ok = top in rule.third_party
        if not ok:
            found.append(f"line {item.line}: {module} imports {item.target} ({kind})")
    return found


def reachable(key: str) -> set[str]:
    """The rows that ``key``'s modules may reach, directly or through what they import."""
    seen: set[str] = set()
    todo = [key]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        targets = (current, *RULES[current].siox)
        todo.extend(k for k in RULES if k != "siox" and any(within(k, t) for t in targets))
    return seen


def outermost(names: list[str]) -> list[str]:
    """``names`` without the submodules of a package also named (for short failure messages)."""
    return [name for name in names if not any(name.startswith(f"{n}.") for n in names)]


BELOW_IO = sorted(m for m in MODULES if m != "siox" and not any(within(m, p) for p in IO_LAYERS))
SOURCES = sorted(m for m, path in MODULES.items() if path is not None)


def test_every_module_has_a_row() -> None:
    assert [m for m in MODULES if rule_key(m) is None] == []
    assert len(BELOW_IO) > 40  # the walk found the core (its modules are not listed by hand)


def test_the_table_keeps_the_layers() -> None:
    names = [name for rule in RULES.values() for name in rule.siox]
    assert [name for name in names if name not in RULES] == []  # a typo would allow nothing
    for key in RULES:
        reach = reachable(key)
        if key in CORE or any(within(key, c) for c in CORE):
            assert not reach & {*IO_LAYERS, "siox.adapters"}, (key, reach)
            assert RULES[key].not_stdlib == NOT_IN_CORE, key
        if key == "siox.adapters":
            assert not reach & set(IO_LAYERS), reach
    assert "siox.client" not in reachable("siox.server")
    assert "siox.server" not in reachable("siox.client")
    assert "siox.workers" not in reachable("siox.server")


@pytest.mark.parametrize("module", SOURCES)
def test_imports_follow_the_table(module: str) -> None:
    path = MODULES[module]
    assert path is not None
    assert violations(module, path.read_text()) == []


@pytest.mark.parametrize("module", BELOW_IO)
def test_importing_loads_only_what_the_table_allows(module: str) -> None:
    key = rule_key(module)
    assert key is not None
    reach = reachable(key)
    rule = RULES[key]
    third_party = {name for k in reach for name in RULES[k].third_party}
    loaded = loaded_by(module, first="siox", watched=rule.not_stdlib, preload=third_party)
    bad = sorted(
        name
        for name in loaded
        if (where(name) == "siox" and not any(within(name, k) for k in reach))
        or (where(name) == "stdlib" and name.partition(".")[0] in rule.not_stdlib)
        or where(name) == "third-party"
    )
    assert outermost(bad) == []


def test_importing_siox_loads_only_the_core() -> None:
    loaded = loaded_by("siox", watched=NOT_IN_CORE)
    assert "siox" in loaded
    bad = sorted(
        name
        for name in loaded
        if (where(name) == "siox" and name != "siox" and not any(within(name, c) for c in CORE))
        or (where(name) == "stdlib" and name.partition(".")[0] in NOT_IN_CORE)
        or where(name) == "third-party"
    )
    assert outermost(bad) == []


# The checks themselves can fail: each of these, in the core, is reported.
FORBIDDEN_IN_SESSION = [
    "import siox.server.engine_server",
    "import siox.server.engine_server as es",
    "from siox.server import engine_server",
    "from siox.server.engine_server import EngineServer",
    "from siox import Server",
    "from ..server import engine_server",
    "from ..server.engine_server import EngineServer",
    "from .. import client",
    "from ... import beyond",
    "def f():\n    from ..asgi import ASGIApp",
    "if TYPE_CHECKING:\n    from siox.client import Client",
    "class C:\n    def m(self):\n        import siox.adapters",
    "import asyncio",
    "import time",
    "from socket import socketpair",
    "import concurrent.futures",
    "import orjson",
    "import trio",
]


@pytest.mark.parametrize("source", FORBIDDEN_IN_SESSION)
def test_the_source_check_reports_a_forbidden_import(source: str) -> None:
    assert len(violations("siox.engineio.session", source)) == 1


def test_the_source_check_accepts_allowed_imports() -> None:
    source = (
        "import json\nfrom .. import errors\nfrom ..errors import InvalidPacket\n"
        "from . import packet\nfrom .packet import Packet\nimport siox.engineio.machine\n"
        "if TYPE_CHECKING:\n    from collections.abc import Iterator\n"
    )
    assert violations("siox.engineio.session", source) == []
    assert violations("siox.parser.msgpack", "import msgpack\nfrom . import packet") == []
    assert violations("siox.parser.default", "import msgpack") != []


def test_the_runtime_probe_sees_modules_loaded_at_start_up() -> None:
    # ``time`` is loaded when the interpreter starts; the probe still sees a module load it.
    assert "time" in loaded_by("time", first="siox", watched={"time"})
    assert "asyncio" in loaded_by("asyncio", first="siox", watched={"asyncio"})
    assert "siox.server" in loaded_by("siox.server", first="siox")
