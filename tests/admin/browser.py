"""The real Admin UI in a real browser: its bundle served locally, Debian's chromium via playwright.

`ui_server` serves ``@socket.io/admin-ui``'s ``ui/dist`` (from tests/node/node_modules) on a
free port of its own, so the UI talks to the siox server cross-origin, with credentials, as the
hosted UI does. `browser_page` starts the system chromium (never a downloaded one) headless;
requests leaving the machine (the UI's web fonts and icon CSS) are answered empty.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

UI_DIR = (
    Path(__file__).resolve().parents[1]
    / "node"
    / "node_modules"
    / "@socket.io"
    / "admin-ui"
    / "ui"
    / "dist"
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM = os.environ.get("SIOX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    """The system chromium's path (None: not installed)."""
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


def browser_missing() -> str | None:
    """Why the browser test cannot run here (None: it can)."""
    if not UI_DIR.joinpath("index.html").exists():
        return "the @socket.io/admin-ui package is not installed in tests/node"
    if chromium() is None:
        return f"no chromium at {CHROMIUM}"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def ui_server() -> Iterator[str]:
    """Serve the UI bundle on 127.0.0.1 (a free port); yields its origin."""
    handler = functools.partial(_Quiet, directory=str(UI_DIR))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@asynccontextmanager
async def browser_page() -> AsyncIterator[Any]:
    """A page of a headless system chromium; only loopback requests leave it."""
    from playwright.async_api import async_playwright

    executable = chromium()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})

            async def route(route: Any) -> None:
                if route.request.url.startswith("http://127.0.0.1:"):
                    await route.continue_()
                else:
                    await route.fulfill(status=200, body="")

            await page.route("**/*", route)
            yield page
        finally:
            await browser.close()


async def screenshot(page: Any, name: str) -> None:
    """Save a screenshot to artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
