"""The chat demo in a real browser: Debian's chromium driven by playwright (no browser download).

Two pages join with a name each, chat both ways, see the typing indicator and the Online list;
the server is then stopped (both pages show they are offline) and started again on the same
port, and both pages reconnect and chat again, joined by ``siox client`` from a terminal. Screenshots of each step go to
``artifacts/screenshots/`` (git-ignored; CI keeps them as artifacts).

Skipped, saying why, only when playwright or chromium is missing outside CI; under CI (``CI``
set) a missing browser is a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from cli.clitools import env, free_port, siox_command, wait_listening

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "chat"
SHOTS = ROOT / "artifacts" / "screenshots"
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
WAIT = 20_000  # ms: the longest any step may take (reconnecting after the restart included)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def _missing() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (scripts/install installs it)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no chromium at {CHROMIUM} (scripts/install: apt-get install chromium)"
    if not (DEMO / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js").is_file():
        return "npm ci has not been run in examples/chat (scripts/install runs it)"
    return None


@pytest.fixture
def browser_ready() -> None:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI: {reason}")
        pytest.skip(reason)


@asynccontextmanager
async def demo_server(port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DEMO / "app.py"),
        "--port",
        str(port),
        env=env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_listening(port)
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def join(page: Any, url: str, name: str) -> None:
    from playwright.async_api import expect

    await page.goto(url)
    await expect(page.locator("#status")).to_have_text("offline")
    await page.fill("#name", name)
    await page.click("#join-button")
    await expect(page.locator("#status")).to_have_class("online", timeout=WAIT)
    # upgraded: a volatile "typing" is not dropped for want of a writable transport
    await expect(page.locator("#status")).to_contain_text("(websocket)", timeout=WAIT)


async def say(page: Any, text: str, seen_typing_by: Any = None) -> None:
    """Type ``text`` (``seen_typing_by``: a page that must show the typing indicator), send it."""
    from playwright.async_api import expect

    await page.locator("#text").press_sequentially(text, delay=60)
    if seen_typing_by is not None:
        name = await page.evaluate("socket.auth.name")
        await expect(seen_typing_by.locator("#typing")).to_have_text(f"{name} is typing…")
    await page.press("#text", "Enter")


async def cli_says(url: str, name: str, text: str) -> list[dict[str, Any]]:
    """Run ``siox client`` on a pipe: join as ``name``, send ``text``, wait for it to come back."""
    proc = await asyncio.create_subprocess_exec(
        *siox_command("client", url, "--auth", json.dumps({"name": name})),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env(),
    )
    commands = [{"ack": ["chat", text], "timeout": 10}, {"wait": "chat", "timeout": 10}]
    data = "".join(json.dumps(c) + "\n" for c in commands).encode()
    out, _ = await asyncio.wait_for(proc.communicate(data), 30)
    assert proc.returncode == 0
    return [json.loads(line) for line in out.decode().splitlines()]


async def test_two_pages_chat_see_typing_and_survive_a_server_restart(
    browser_ready: None, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=10_000)  # a busy CI machine
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("chat-*.png"):
        old.unlink()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    profile = tmp_path / "chromium-profile"
    async with async_playwright() as driver:
        context = await driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 900, "height": 520},
        )
        try:
            ada = context.pages[0] if context.pages else await context.new_page()
            bob = await context.new_page()
            async with demo_server(port):
                await join(ada, url, "Ada")
                await join(bob, url, "Bob")
                for page in (ada, bob):
                    await expect(page.locator("#users li")).to_have_text(["Ada", "Bob"])
                    await expect(page.locator("#users")).not_to_have_class("stale")
                await expect(ada.locator("#log")).to_contain_text("Bob joined")

                # typing shows on the other page; a blank message cannot be sent
                await ada.locator("#text").press_sequentially("   ", delay=15)
                await expect(ada.locator("#send")).to_be_disabled()
                await ada.press("#text", "Enter")
                await ada.fill("#text", "")
                await ada.locator("#text").press_sequentially("hello Bob", delay=60)
                await expect(bob.locator("#typing")).to_have_text("Ada is typing…")
                await ada.screenshot(path=str(SHOTS / "chat-1-ada-typing.png"))
                await bob.screenshot(path=str(SHOTS / "chat-1-bob-sees-typing.png"))
                await ada.press("#text", "Enter")
                for page in (ada, bob):
                    await expect(page.locator("#log li:not(.system)")).to_have_text(
                        ["Ada: hello Bob"]
                    )
                await say(bob, "hi Ada", seen_typing_by=ada)
                for page in (ada, bob):
                    await expect(page.locator("#log li:not(.system)")).to_have_text(
                        ["Ada: hello Bob", "Bob: hi Ada"]
                    )
                await expect(ada.locator("#log li.failed")).to_have_count(0)
                await ada.screenshot(path=str(SHOTS / "chat-2-ada-chatting.png"))
                await bob.screenshot(path=str(SHOTS / "chat-2-bob-chatting.png"))

            # the server is gone: both pages say so, and grey their Online list
            for page in (ada, bob):
                await expect(page.locator("#status")).not_to_have_class("online", timeout=WAIT)
                await expect(page.locator("#status")).to_contain_text("offline")
                await expect(page.locator("#users")).to_have_class("stale")
                await expect(page.locator("#send")).to_be_disabled()
            await ada.screenshot(path=str(SHOTS / "chat-3-ada-offline.png"))

            async with demo_server(port):  # the same port again: both pages come back
                for page in (ada, bob):
                    await expect(page.locator("#status")).to_have_class("online", timeout=WAIT)
                    await expect(page.locator("#users li")).to_have_text(
                        ["Ada", "Bob"], timeout=WAIT
                    )
                    await expect(page.locator("#users")).not_to_have_class("stale")
                await say(bob, "back again")
                await say(ada, "welcome back")
                for page in (ada, bob):
                    await expect(page.locator("#log li:not(.system)")).to_have_text(
                        ["Ada: hello Bob", "Bob: hi Ada", "Bob: back again", "Ada: welcome back"],
                        timeout=WAIT,
                    )
                # the `siox client` command joins the same chat from a terminal
                records = await cli_says(url, "Cy", "hello from a terminal")
                assert {"type": "ack", "event": "chat", "args": [True]} in records
                chat = [r["args"][0] for r in records if r.get("event") == "chat"]
                assert {"from": "Cy", "text": "hello from a terminal"} in chat
                for page in (ada, bob):
                    await expect(page.locator("#log li:not(.system)").last).to_have_text(
                        "Cy: hello from a terminal"
                    )
                await expect(ada.locator("#log li.failed")).to_have_count(0)
                await expect(bob.locator("#log li.failed")).to_have_count(0)
                await ada.screenshot(path=str(SHOTS / "chat-4-ada-after-restart.png"))
                await bob.screenshot(path=str(SHOTS / "chat-4-bob-after-restart.png"))
        finally:
            await context.close()
    assert sorted(p.name for p in SHOTS.glob("chat-*.png")) == [
        "chat-1-ada-typing.png",
        "chat-1-bob-sees-typing.png",
        "chat-2-ada-chatting.png",
        "chat-2-bob-chatting.png",
        "chat-3-ada-offline.png",
        "chat-4-ada-after-restart.png",
        "chat-4-bob-after-restart.png",
    ]
