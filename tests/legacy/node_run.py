"""Node scripts for the legacy-protocol tests: run as subprocesses, stopped by their handle."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
NODE_MODULES = NODE_DIR / "node_modules"
NODE_TIMEOUT = 25.0

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")


def untag(value: Any) -> Any:
    """Turn the scripts' ``{"$bin": base64}`` back into bytes, recursively."""
    import base64

    if isinstance(value, list):
        return [untag(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$bin"}:
            return base64.b64decode(value["$bin"])
        return {k: untag(v) for k, v in value.items()}
    return value


async def run_node(script: str, *args: str, timeout: float = NODE_TIMEOUT) -> dict[str, Any]:
    """Run ``tests/node/<script>`` with ``args``; return its ``result`` (bytes untagged).

    The process is killed (by its handle) if it outlives ``timeout``; a scenario error fails
    the test with what the script recorded.
    """
    process = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_DIR / script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=NODE_DIR,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lines = [line for line in out.decode().split("\n") if line.startswith("{")]
    assert lines, f"no output (exit {process.returncode}): {err.decode()[-2000:]}"
    report = json.loads(lines[-1])
    assert "result" in report, json.dumps(report, indent=1)[-4000:]
    assert process.returncode == 0, err.decode()[-2000:]
    result: dict[str, Any] = untag(report["result"])
    return result
