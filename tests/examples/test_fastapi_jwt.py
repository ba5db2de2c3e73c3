"""examples/fastapi_jwt: FastAPI + siox on /realtime, a signed token checked on connect."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import ModuleType
from typing import Any

import pytest

import siox

PATH = "/realtime/socket.io/"


def post(url: str, body: dict[str, Any] | None = None, token: str = "") -> tuple[int, Any]:
    request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_a_signed_in_user_connects_and_others_are_refused_with_a_reason(
    run_example: Callable[..., AbstractContextManager[str]],
) -> None:
    with run_example("fastapi_jwt/app.py") as url:
        status, body = await asyncio.to_thread(
            post, url + "/login", {"user": "ada", "password": "lovelace"}
        )
        assert status == 200
        token = body["token"]
        status, _ = await asyncio.to_thread(
            post, url + "/login", {"user": "ada", "password": "nope"}
        )
        assert status == 401

        async with siox.connect(url, path=PATH, auth={"token": token}) as socket:
            assert await socket.emit_with_ack("whoami", timeout=5) == "ada"
            notice = asyncio.ensure_future(socket.wait_for("notice", timeout=5))
            status, body = await asyncio.to_thread(
                post, url + "/notify/ada?message=hi", token=token
            )
            assert (status, body) == (200, {"sent": "ada"})
            assert await notice == {"from": "ada", "message": "hi"}

        payload, signature = token.split(".")
        forged = f"{payload}.{signature[::-1]}"
        for auth, reason in [
            ({"token": forged}, "bad signature"),
            ({"token": "garbage"}, "malformed token"),
            ({}, "malformed token"),
        ]:
            with pytest.raises(siox.ConnectionRefused) as refused:
                async with siox.connect(url, path=PATH, auth=auth):
                    pass
            assert refused.value.message == "unauthorized"
            assert refused.value.data == {"reason": reason}
        status, _ = await asyncio.to_thread(post, url + "/notify/ada?message=x", token=forged)
        assert status == 401


def test_an_expired_token_is_refused(load_example: Callable[[str], ModuleType]) -> None:
    module = load_example("fastapi_jwt/app.py")
    assert module.verify_token(module.issue_token("alan")) == "alan"
    with pytest.raises(ValueError, match="expired token"):
        module.verify_token(module.issue_token("alan", lifetime=-1))
