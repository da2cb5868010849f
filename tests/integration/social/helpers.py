"""Signing users up and in the way a client does, for the social tests."""

from __future__ import annotations

from typing import Any


class Actor:
    """A signed-in user: ``await u.get(path)`` etc. with its bearer token."""

    def __init__(self, client: Any, username: str, user_id: str, token: str) -> None:
        self.client, self.username, self.id, self.token = client, username, user_id, token
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.client.get(path, headers=self.headers, **kw)

    async def post(self, path: str, **kw: Any) -> Any:
        return await self.client.post(path, headers=self.headers, **kw)

    async def patch(self, path: str, **kw: Any) -> Any:
        return await self.client.patch(path, headers=self.headers, **kw)

    async def put(self, path: str, **kw: Any) -> Any:
        return await self.client.put(path, headers=self.headers, **kw)

    async def delete(self, path: str, **kw: Any) -> Any:
        return await self.client.delete(path, headers=self.headers, **kw)

    async def publish(self, text: str, visibility: str = "public") -> dict[str, Any]:
        res = await self.post("/api/v1/posts", json={"text": text, "visibility": visibility})
        assert res.status_code == 201, res.text
        return res.json()  # type: ignore[no-any-return]

    async def follow(self, other: Actor) -> dict[str, Any]:
        res = await self.post(f"/api/v1/users/{other.username}/follow")
        assert res.status_code == 200, res.text
        return res.json()  # type: ignore[no-any-return]

    async def feed(self, path: str, **params: Any) -> list[dict[str, Any]]:
        res = await self.get(path, params=params)
        assert res.status_code == 200, res.text
        return res.json()["items"]  # type: ignore[no-any-return]


_HASH: list[str] = []


async def signup(client: Any, username: str, role: str | None = None) -> Actor:
    """A user made directly (argon2 once per session keeps the suite fast) with a real login session."""
    from models.ids import new_id
    from server import security, sql
    from server.accounts.services import AccountService, ClientInfo

    if not _HASH:
        _HASH.append(security.hash_password("correct horse battery"))
    row = await sql.fetchrow(
        "INSERT INTO users (id, username, email, email_normalized, password_hash, display_name, bio, role, "
        "is_private, locale, timezone, totp_enabled, followers_count, following_count, posts_count, links, "
        "created_at, updated_at) VALUES ($1, $2, $3, $3, $4, '', '', $5, false, 'en', 'UTC', false, 0, 0, 0, "
        "'[]'::jsonb, now(), now()) RETURNING *",
        new_id(),
        username,
        f"{username}@example.com",
        _HASH[0],
        role or "user",
    )
    from tests.support.settings import of

    issued = await AccountService(of(client)).open_session(dict(row), ClientInfo(ip="127.0.0.1", user_agent="t"))
    return Actor(client, username, str(row["id"]), issued.access_token)


async def signup_via_api(client: Any, username: str, role: str | None = None) -> Actor:
    password = "correct horse battery"
    res = await client.post(
        "/api/v1/auth/register", json={"username": username, "email": f"{username}@example.com", "password": password}
    )
    assert res.status_code == 201, res.text
    user_id = res.json()["id"]
    if role:
        from server import sql

        await sql.execute("UPDATE users SET role = $2 WHERE id = $1", int(user_id), role)
    tokens = (await client.post("/api/v1/auth/login", json={"login": username, "password": password})).json()
    return Actor(client, username, user_id, tokens["access_token"])


async def users(client: Any, *names: str) -> list[Actor]:
    return [await signup(client, n) for n in names]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [p["id"] for p in items]
