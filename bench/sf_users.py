"""Bulk users for the Social Flow runs: ``python -m bench.sf_users COUNT PREFIX`` prints JSON [{id, username, token}].

Run with the server's own DATABASE_URL and SECRET_KEY. Registering through REST costs one argon2 hash and
one verify per user (about 0.7 s together on this machine), so 1,000 followers would take longer than the
whole benchmark; instead the rows share one precomputed hash and sessions open through the accounts
service's own ``open_session``, which is exactly what a REST login ends in. The benchmark still registers
and logs in its own author and fan-out users through the REST API.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys


async def create(count: int, prefix: str) -> list[dict[str, str]]:
    from models.accounts import User
    from server import db, security
    from server.accounts.services import AccountService, ClientInfo
    from server.settings import from_env

    settings = from_env()  # a bench entry: it reads the environment once
    await db.start_pool(settings.database, max_size=4)
    try:
        password_hash = security.hash_password(secrets.token_urlsafe(24))
        users = [
            User(
                username=f"{prefix}{i}",
                email=f"{prefix}{i}@bench.example.com",
                email_normalized=f"{prefix}{i}@bench.example.com",
                password_hash=password_hash,
                display_name=f"{prefix}{i}",
            )
            for i in range(count)
        ]
        rows = await User.insert(*users).returning(*User.all_columns())
        service = AccountService(settings)
        client = ClientInfo(ip="127.0.0.1", user_agent="social-flow-bench")
        out = []
        for row in rows:
            issued = await service.open_session(row, client)
            out.append({"id": str(row["id"]), "username": row["username"], "token": issued.access_token})
        return out
    finally:
        await db.close_pool()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(create(int(sys.argv[1]), sys.argv[2]))))
