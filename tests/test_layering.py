"""The sans-I/O core imports no I/O, concurrency or clock modules (checked on the source)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "siox"
CORE = [
    *sorted((SRC / "parser").glob("*.py")),
    *sorted((SRC / "engineio").glob("*.py")),
    *sorted((SRC / "socketio").glob("*.py")),
    *sorted((SRC / "http").glob("*.py")),
    SRC / "jsonbackend.py",
    SRC / "errors.py",
    SRC / "callables.py",
]
FORBIDDEN = {"asyncio", "socket", "ssl", "threading", "time", "select", "selectors", "trio"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level > 0 and node.module:
            names.add("." + node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(SRC)))
def test_core_module_imports_no_io_or_clock(path: Path) -> None:
    imports = imported_modules(path)
    assert not imports & FORBIDDEN, imports & FORBIDDEN
    # ...and nothing from the asyncio layers above it.
    assert not {".server", ".client", ".asgi"} & imports, imports


def test_importing_the_core_loads_no_io_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, siox.parser, siox.engineio, siox.socketio.connection, siox.parser.rev1\n"
        "loaded = {'asyncio', 'socket', 'ssl', 'threading', 'httptools', 'siox.server'}\n"
        "print(sorted(loaded & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
