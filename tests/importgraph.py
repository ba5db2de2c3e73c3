"""What a siox module imports: read from its source, and measured by importing it.

`source_imports` resolves every import statement of a module to an absolute module name:
``import a.b``, ``from a.b import c`` and relative ``from ..b import c``, wherever they sit (module
level, inside functions, under ``if TYPE_CHECKING:``). `loaded_by` imports a module in a fresh
interpreter and returns every module that the import loaded.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Import", "loaded_by", "source_imports", "walk", "where"]


@dataclass(frozen=True)
class Import:
    """One imported module: its absolute dotted name and the line that imports it."""

    target: str
    line: int


def walk(path: Path, package: str) -> dict[str, Path | None]:
    """Every module of a package, found with pkgutil without importing anything.

    Returns:
        Module name -> its source file (None for a compiled module without one).
    """
    found: dict[str, Path | None] = {package: path / "__init__.py"}
    for info in pkgutil.iter_modules([str(path)]):
        name = f"{package}.{info.name}"
        if info.ispkg:
            found.update(walk(path / info.name, name))
        else:
            source = path / f"{info.name}.py"
            found[name] = source if source.exists() else None
    return found


def where(module: str) -> str:
    """Which kind of module ``module`` names: "siox", "stdlib" or "third-party"."""
    top = module.partition(".")[0]
    if top == "siox":
        return "siox"
    return "stdlib" if top in sys.stdlib_module_names else "third-party"


def source_imports(
    source: str, module: str, *, package: bool, known: Collection[str]
) -> list[Import]:
    """The modules that ``source`` (the text of ``module``) imports, resolved to absolute names.

    ``from x import y`` counts as importing ``x.y`` when that is a module in ``known``, else as
    importing ``x``. A relative import that climbs above the top package resolves to a name
    starting with ``"<beyond "``, which no rule allows.
    """
    here = module.split(".") if package else module.split(".")[:-1]
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if node.level > len(here):
                    found.append(Import(f"<beyond {module}>", node.lineno))
                    continue
                parent = ".".join(here[: len(here) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(sub if sub in known else base, node.lineno))
    return found


# Runs in a fresh interpreter. Modules that CPython loads at start-up (``time``, for zipimport)
# are dropped from sys.modules first, so a later import of them shows up again.
_PROBE = """
import importlib, json, sys
module, first, watched, preload = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4:]
for name in preload:
    try:
        importlib.import_module(name)
    except ImportError:
        pass
for name in [m for m in sys.modules if m.partition(".")[0] in watched]:
    del sys.modules[name]
if first:
    importlib.import_module(first)
before = set(sys.modules)
importlib.import_module(module)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def loaded_by(
    module: str, *, first: str = "", watched: Iterable[str] = (), preload: Iterable[str] = ()
) -> set[str]:
    """The modules that importing ``module`` in a fresh interpreter loads.

    Args:
        module: what to import.
        first: a module imported before counting starts (its loads are not counted).
        watched: top-level names to unload before anything is imported, so that they are
            counted even though the interpreter loaded them at start-up.
        preload: third-party packages to import beforehand (when installed); what they load
            is not counted, but ``watched`` names are unloaded after them.
    """
    command = [sys.executable, "-c", _PROBE, module, first, json.dumps(sorted(watched))]
    result = subprocess.run(
        [*command, *preload], capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode:
        raise AssertionError(f"importing {module} failed:\n{result.stderr}")
    loaded: list[str] = json.loads(result.stdout)
    return set(loaded)
