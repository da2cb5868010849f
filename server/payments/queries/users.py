"""Users, Stripe customers and charge-enabled accounts: the reads and writes every payments service shares."""

from __future__ import annotations

from typing import Any

import asyncpg

from server import sql

USER_COLUMNS = (
    "id, username, display_name, avatar_url, bio, followers_count, following_count, posts_count, "
    "is_private, role, created_at"
)


async def stripe_customer_id(user_id: int) -> Any:
    """The user's Stripe Customer id, ``None`` if none was created yet."""
    return await sql.fetchval('SELECT customer_id FROM stripe_customers WHERE "user" = $1', user_id)


async def user_email(user_id: int) -> Any:
    """The user's email (``None`` if the user has none or does not exist)."""
    return await sql.fetchval("SELECT email FROM users WHERE id = $1", user_id)


async def insert_stripe_customer(user_id: int, customer_id: str) -> None:
    """Store the user's Stripe Customer id unless one was stored first (a racing request)."""
    await sql.execute(
        'INSERT INTO stripe_customers ("user", customer_id, created_at) VALUES ($1, $2, now()) '
        'ON CONFLICT ("user") DO NOTHING',
        user_id,
        customer_id,
    )


async def users_by_id(ids: list[int]) -> list[asyncpg.Record]:
    """The public columns of the users ``ids``."""
    return await sql.fetch(f"SELECT {USER_COLUMNS} FROM users WHERE id = ANY($1)", ids)  # noqa: S608 — constant column list; values are $n


async def active_user_by_name(username: str) -> asyncpg.Record | None:
    """The public columns of the (not suspended) user ``username``."""
    return await sql.fetchrow(
        f"SELECT {USER_COLUMNS} FROM users WHERE username = lower($1) AND suspended_at IS NULL",  # noqa: S608 — constant column list; values are $n
        username,
    )


async def charges_enabled_account(user_id: int) -> Any:
    """The user's Connect account id if it may receive charges, else ``None``."""
    return await sql.fetchval('SELECT account_id FROM payout_accounts WHERE "user" = $1 AND charges_enabled', user_id)
