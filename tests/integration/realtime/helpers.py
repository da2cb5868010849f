"""A client's view of the realtime layer: accounts, tokens and a websocket that speaks protocol v1."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from httpx_ws import WebSocketDisconnect, aconnect_ws

PASSWORD = "correct horse battery"
WAIT = 10.0  # generous upper bound for a frame to arrive; tests never assert on timing


async def account(client: Any, username: str) -> tuple[str, str]:
    """A user with a live session, made directly in the database (argon2 is slow); ``(user_id, token)``."""
    import datetime as dt

    from models.accounts import AuthSession, User
    from server.security import dummy_password_hash, make_access_token
    from tests.support.settings import of

    user = User(username=username, email=f"{username}@example.com", email_normalized=f"{username}@example.com")
    user.password_hash = dummy_password_hash(of(client).security.password_hashing)
    await user.save()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    session = AuthSession(user=user.id, expires_at=expires)
    await session.save()
    sec = of(client).security
    token, _ = make_access_token(
        user_id=user.id,
        session_id=session.id,
        role="user",
        key=sec.secret_key,
        issuer=sec.jwt_issuer,
        audience=sec.jwt_audience,
        ttl=600,
    )
    return str(user.id), token


async def registered(client: Any, username: str) -> tuple[str, str]:
    """Register ``username`` and log in through the API; return ``(user_id, access_token)``."""
    res = await client.post(
        "/api/v1/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert res.status_code == 201, res.text
    tokens = (await client.post("/api/v1/auth/login", json={"login": username, "password": PASSWORD})).json()
    return res.json()["id"], tokens["access_token"]


class Socket:
    """A thin protocol-v1 client over an httpx_ws session."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._next = 0

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(frame))

    async def recv(self, timeout: float = WAIT) -> dict[str, Any]:
        return json.loads(await self.ws.receive_text(timeout=timeout))  # type: ignore[no-any-return]

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send a command with a fresh id and return its reply (events in between are kept in order)."""
        self._next += 1
        frame = {**frame, "id": self._next}
        await self.send(frame)
        while True:
            reply = await self.recv()
            if reply.get("id") == self._next:
                return reply
            self.backlog.append(reply)

    backlog: list[dict[str, Any]]

    async def auth(self, token: str) -> dict[str, Any]:
        return await self.call({"type": "auth", "token": token})

    async def subscribe(self, channel: str, since: dict[str, Any] | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "subscribe", "channel": channel}
        if since is not None:
            frame["since"] = since
        return await self.call(frame)

    async def event(self) -> dict[str, Any]:
        """The next ``event`` frame."""
        if self.backlog:
            return self.backlog.pop(0)
        frame = await self.recv()
        assert frame["type"] == "event", frame
        return frame

    async def closed(self) -> int:
        """Read until the server closes; return the close code."""
        try:
            while True:
                await self.ws.receive_text(timeout=WAIT)
        except WebSocketDisconnect as exc:
            return exc.code


@contextlib.asynccontextmanager
async def connect(
    client: Any, token: str | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[Socket]:
    async with aconnect_ws("http://testserver/api/v1/ws", client, headers=dict(headers or {})) as ws:
        sock = Socket(ws)
        sock.backlog = []
        if token is not None:
            ready = await sock.auth(token)
            assert ready["type"] == "ready", ready
        yield sock
