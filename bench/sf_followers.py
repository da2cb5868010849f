"""An author with many followers, for the celebrity runs.

``python -m bench.sf_followers AUTHOR_ID COUNT PREFIX SESSIONS`` prints JSON [{id, token}] for the first
SESSIONS of COUNT new users who all follow AUTHOR_ID.

Run with the server's own DATABASE_URL and SECRET_KEY. 100,000 followers through REST would take hours of
argon2 here, so the users and follows are COPYed in (the rows the follow endpoint writes, counters
included), and sessions open through the accounts service's own ``open_session``, as in ``bench.sf_users``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from datetime import UTC, datetime


async def create(author: int, count: int, prefix: str, sessions: int) -> list[dict[str, str]]:
    import asyncpg

    from models.accounts import User
    from server import db, security
    from server.accounts.services import AccountService, ClientInfo
    from server.settings import from_env

    settings = from_env()  # a bench entry: it reads the environment once
    dsn = settings.database.url
    assert dsn, "DATABASE_URL is required"
    conn = await asyncpg.connect(dsn)
    try:
        base = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM users")) + 1
        follow_base = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM follows")) + 1
        now = datetime.now(UTC)
        password_hash = security.hash_password(secrets.token_urlsafe(24))
        ids = [base + i for i in range(count)]
        users = [
            (uid, f"{prefix}{i}", f"{prefix}{i}@bench.example.com", f"{prefix}{i}@bench.example.com", password_hash,
             f"{prefix}{i}", "", "user", False, "en", "UTC", False, 0, 1, 0, now, now)
            for i, uid in enumerate(ids)
        ]  # fmt: skip
        cols = ["id", "username", "email", "email_normalized", "password_hash", "display_name", "bio", "role",
                "is_private", "locale", "timezone", "totp_enabled", "followers_count", "following_count",
                "posts_count", "created_at", "updated_at"]  # fmt: skip
        await conn.copy_records_to_table("users", records=users, columns=cols)
        follows = [(follow_base + i, uid, author, now) for i, uid in enumerate(ids)]
        await conn.copy_records_to_table(
            "follows", records=follows, columns=["id", "follower", "followee", "created_at"]
        )
        await conn.execute("UPDATE users SET followers_count = followers_count + $2 WHERE id = $1", author, count)
        await conn.execute("ANALYZE users, follows")
    finally:
        await conn.close()

    await db.start_pool(settings.database, max_size=4)
    try:
        rows = await User.select(*User.all_columns()).where(User.id.is_in(ids[:sessions]))
        service = AccountService(settings)
        client = ClientInfo(ip="127.0.0.1", user_agent="social-flow-bench")
        out = []
        for row in rows:
            issued = await service.open_session(row, client)
            out.append({"id": str(row["id"]), "token": issued.access_token})
        return out
    finally:
        await db.close_pool()


if __name__ == "__main__":
    author_id, count, prefix, sessions = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    print(json.dumps(asyncio.run(create(author_id, count, prefix, sessions))))
