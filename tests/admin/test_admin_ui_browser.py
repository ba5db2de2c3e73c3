"""The real Admin UI (``@socket.io/admin-ui`` 0.5's bundle) in chromium against a siox server.

The UI is served from its own origin; the siox server allows that origin (CORS with
credentials, as the hosted UI needs). The test logs in through the UI's connection form, finds
the server's sockets and rooms on the UI's pages, disconnects one socket from the UI and checks
that the client saw it. Screenshots go to artifacts/.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import siox
from admin.browser import browser_missing, browser_page, screenshot, ui_server
from rawpeer import running

bcrypt = pytest.importorskip("bcrypt")
pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing())),
]

USERNAME = "admin"
PASSWORD = "browser-pass"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


async def test_the_ui_in_chromium_shows_sockets_and_rooms_and_disconnects_one() -> None:
    with ui_server() as origin:
        sio = siox.Server(cors_allowed_origins=[origin])
        sio.instrument(
            auth={"type": "basic", "username": USERNAME, "password": HASH}, stats_interval=0.5
        )

        @sio.on("connect")
        async def connect(socket: siox.Socket) -> None:
            await socket.join("lobby")

        async with running(sio) as port:
            url = f"http://127.0.0.1:{port}"
            reasons: list[str] = []
            async with (
                siox.connect(url, reconnection=False) as alice,
                siox.connect(url, reconnection=False) as bob,
            ):

                @bob.on("disconnect")
                def gone(reason: str, *rest: Any) -> None:
                    reasons.append(reason)

                async with browser_page() as page:
                    await login(page, origin, url)
                    await screenshot(page, "admin-ui-dashboard")

                    await page.goto(f"{origin}/#/sockets/")
                    for sid in (alice.id, bob.id):
                        assert sid is not None
                        await page.get_by_text(sid).first.wait_for(timeout=10_000)
                    await screenshot(page, "admin-ui-sockets")

                    await page.goto(f"{origin}/#/rooms/")
                    await page.get_by_text("lobby").first.wait_for(timeout=10_000)
                    await screenshot(page, "admin-ui-rooms")

                    await page.goto(f"{origin}/#/n/%2F/sockets/{bob.id}")
                    await page.get_by_text("Socket details").first.wait_for(timeout=10_000)
                    await page.get_by_text("lobby").first.wait_for(timeout=10_000)
                    await screenshot(page, "admin-ui-socket-details")
                    await page.locator("button:has(i.mdi-logout)").first.click()
                    for _ in range(100):
                        if reasons:
                            break
                        await asyncio.sleep(0.05)
                    await screenshot(page, "admin-ui-after-disconnect")

                assert reasons == ["io server disconnect"]
                assert alice.connected and not bob.connected


async def login(page: Any, origin: str, url: str) -> None:
    """Fill the UI's connection form and wait until it says it is connected."""
    await page.goto(f"{origin}/")
    await page.get_by_label("Server URL").fill(url)
    await page.get_by_label("Username").fill(USERNAME)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Connect").click()
    await page.get_by_text("Connected").first.wait_for(timeout=15_000)
