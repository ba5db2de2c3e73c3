"""Hatch build hook: compile the optional C speedups in place, or skip them.

siox works without them (pure-Python fallbacks); a missing compiler or headers only costs
speed. Set SIOX_NO_EXTENSIONS=1 to skip the build (and to ignore a built module at run time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCES = ["src/siox/http/_speedups.c", "src/siox/parser/_speedups.c"]


class SpeedupsBuildHook(BuildHookInterface):  # type: ignore[misc]
    """Builds each of ``SOURCES`` next to its source (wheel and editable installs)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile each source; a failure is reported and skipped."""
        if os.environ.get("SIOX_NO_EXTENSIONS"):
            return
        root = Path(self.root)
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        compiler = sysconfig.get_config_var("CC") or "cc"
        include = sysconfig.get_paths()["include"]
        for source in SOURCES:
            target = root / (source[: -len(".c")] + suffix)
            command = [
                *compiler.split(),
                "-O3",
                "-shared",
                "-fPIC",
                f"-I{include}",
                str(root / source),
                "-o",
                str(target),
            ]
            try:
                subprocess.run(command, check=True, capture_output=True, timeout=120)
            except (OSError, subprocess.SubprocessError) as exc:
                print(
                    f"siox: optional speedups not built ({exc}); using pure Python", file=sys.stderr
                )
                continue
            relative = target.relative_to(root / "src").as_posix()
            build_data["force_include"][str(target)] = relative
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
