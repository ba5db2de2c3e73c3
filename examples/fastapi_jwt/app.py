"""A FastAPI application with siox mounted on /realtime, authenticated by signed tokens.

    python examples/fastapi_jwt/app.py [--port 8000]      # or: uvicorn app:app

``POST /login`` with ``{"user": "ada", "password": "..."}`` returns a token: a JWT-like
``payload.signature`` pair, signed with HMAC-SHA256 from the standard library (no JWT
dependency). HTTP routes check it in the ``Authorization: Bearer`` header; Socket.IO clients
send it in their ``auth`` payload, and a connect middleware checks it before the connection is
accepted (a refused client gets ``unauthorized`` with a reason).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import socket as net
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

import siox

SECRET = os.environ.get("TOKEN_SECRET", "").encode() or secrets.token_bytes(32)
TOKEN_LIFETIME = 3600.0
USERS = {"ada": "lovelace", "alan": "turing"}  # a real app checks a password hash


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(user: str, lifetime: float = TOKEN_LIFETIME) -> str:
    """A signed token saying who ``user`` is, valid for ``lifetime`` seconds."""
    payload = _b64(json.dumps({"sub": user, "exp": time.time() + lifetime}).encode())
    signature = hmac.new(SECRET, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(signature)}"


def verify_token(token: object) -> str:
    """The user a token names; ``ValueError`` (with the reason) if it is not valid."""
    if not isinstance(token, str) or token.count(".") != 1:
        raise ValueError("malformed token")
    payload, signature = token.split(".")
    expected = hmac.new(SECRET, payload.encode(), hashlib.sha256).digest()
    try:
        good = hmac.compare_digest(_unb64(signature), expected)
        claims = json.loads(_unb64(payload)) if good else {}
    except ValueError:
        raise ValueError("malformed token") from None
    if not good:
        raise ValueError("bad signature")
    if not isinstance(claims.get("exp"), float | int) or claims["exp"] < time.time():
        raise ValueError("expired token")
    return str(claims["sub"])


# -- Socket.IO ----------------------------------------------------------------------------------

sio = siox.Server()


@sio.use
def authenticate(socket: siox.Socket, auth: dict[str, Any]) -> None:
    """Connect middleware: no valid token, no connection."""
    try:
        socket.data["user"] = verify_token(auth.get("token"))
    except ValueError as error:
        raise siox.ConnectionRefused("unauthorized", {"reason": str(error)}) from None


@sio.on("connect")
async def connect(socket: siox.Socket) -> None:
    await socket.join(f"user:{socket.data['user']}")  # every tab of one user


@sio.on("whoami")
def whoami(socket: siox.Socket) -> str:
    return str(socket.data["user"])


# -- HTTP -----------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def lifespan(api: FastAPI) -> AsyncIterator[None]:
    yield
    await sio.shutdown()  # a mounted app gets no lifespan events of its own


app = FastAPI(lifespan=lifespan)
app.mount("/realtime", siox.ASGIApp(sio))  # clients use path="/realtime/socket.io/"


class Login(BaseModel):
    """The body of ``POST /login``."""

    user: str
    password: str


@app.post("/login")
def login(body: Login) -> dict[str, str]:
    if not hmac.compare_digest(USERS.get(body.user, ""), body.password):
        raise HTTPException(status_code=401, detail="wrong user or password")
    return {"token": issue_token(body.user)}


@app.post("/notify/{user}")
async def notify(user: str, message: str, authorization: str = Header("")) -> dict[str, str]:
    """Send ``message`` to every connection of ``user`` (any signed-in user may)."""
    try:
        sender = verify_token(authorization.removeprefix("Bearer "))
    except ValueError as error:
        raise HTTPException(status_code=401, detail=str(error)) from None
    await sio.to(f"user:{user}").emit("notice", {"from": sender, "message": message})
    return {"sent": user}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args()
    listener = net.socket()
    listener.setsockopt(net.SOL_SOCKET, net.SO_REUSEADDR, 1)
    listener.bind((options.host, options.port))
    listener.listen(128)  # connections wait in the backlog until uvicorn accepts them
    print(f"listening on http://{options.host}:{listener.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after shutting down
        server.run(sockets=[listener])


if __name__ == "__main__":
    main()
