"""Client-side helpers for tests that need signed-in users."""

from __future__ import annotations

from typing import Any

PASSWORD = "correct horse battery"


async def register(client: Any, username: str = "alice", password: str = PASSWORD, email: str | None = None) -> Any:
    return await client.post(
        "/api/v1/auth/register",
        json={"username": username, "email": email or f"{username}@example.com", "password": password},
    )


async def login(client: Any, login: str = "alice", password: str = PASSWORD, **extra: Any) -> Any:
    return await client.post("/api/v1/auth/login", json={"login": login, "password": password, **extra})


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def signed_in(client: Any, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
    """Register ``username`` and log in; the token pair plus ``id`` and ``headers``."""
    res = await register(client, username, password)
    assert res.status_code == 201, res.text
    tokens = (await login(client, username, password)).json()
    return {**tokens, "id": res.json()["id"], "headers": bearer(tokens)}


async def make_admin(username: str) -> None:
    """Promote directly in the database (what ``create-admin`` does for the first admin)."""
    from models.accounts import User

    await User.update({User.role: "admin"}).where(User.username == username)


def app_with(settings: Any, **changes: Any) -> Any:
    """A fresh app whose settings differ from ``settings`` by ``changes`` (``"rate_limits.login_ip"``)."""
    from tests.support.apps import app_for
    from tests.support.settings import derive

    return app_for(derive(settings, **changes))
