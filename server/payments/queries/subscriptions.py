"""Subscription tiers and fan subscriptions: creation, cancellation, Stripe's mirror and the access window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from server import sql


async def tier_by_idem(idem: str) -> asyncpg.Record | None:
    """The tier made under idempotency key ``idem``."""
    return await sql.fetchrow("SELECT * FROM subscription_tiers WHERE idem_key = $1", idem)


async def insert_tier(
    tier_id: int,
    creator: int,
    name: str,
    description: str,
    amount: int,
    currency: str,
    interval: str,
    product_id: str,
    price_id: str,
    idem: str,
) -> asyncpg.Record | None:
    """Store a new tier (its Stripe Product and Price made); the row."""
    return await sql.fetchrow(
        "INSERT INTO subscription_tiers (id, creator, name, description, amount, currency, interval, "
        "product_id, price_id, idem_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "now()) RETURNING *",
        tier_id,
        creator,
        name,
        description,
        amount,
        currency,
        interval,
        product_id,
        price_id,
        idem,
    )


async def tiers_of(creator: int) -> list[asyncpg.Record]:
    """The creator's tiers, cheapest first."""
    return await sql.fetch("SELECT * FROM subscription_tiers WHERE creator = $1 ORDER BY amount, id", creator)


async def tier(tier_id: int) -> asyncpg.Record | None:
    """The tier ``tier_id``."""
    return await sql.fetchrow("SELECT * FROM subscription_tiers WHERE id = $1", tier_id)


async def open_tier(tier_id: int) -> asyncpg.Record | None:
    """The tier ``tier_id`` if its creator is not suspended (it takes new subscribers)."""
    return await sql.fetchrow(
        "SELECT t.* FROM subscription_tiers t JOIN users u ON u.id = t.creator "
        "WHERE t.id = $1 AND u.suspended_at IS NULL",
        tier_id,
    )


async def subscription_by_idem(idem: str) -> asyncpg.Record | None:
    """The fan subscription made under idempotency key ``idem``."""
    return await sql.fetchrow("SELECT * FROM fan_subscriptions WHERE idem_key = $1", idem)


async def live_subscription_id(subscriber: int, creator: int, statuses: list[str]) -> Any:
    """The id of ``subscriber``'s not ended subscription to ``creator`` in one of ``statuses``, else ``None``."""
    return await sql.fetchval(
        "SELECT id FROM fan_subscriptions WHERE subscriber = $1 AND creator = $2 AND status = ANY($3) "
        "AND ended_at IS NULL",
        subscriber,
        creator,
        statuses,
    )


async def insert_subscription(
    sub_id: int,
    subscriber: int,
    creator: int,
    tier_id: int,
    subscription_id: str,
    item_id: str,
    status: str,
    client_secret: str | None,
    current_period_end: datetime | None,
    idem: str,
) -> asyncpg.Record | None:
    """Store a new fan subscription (no access yet); the row, or the one already stored for ``subscription_id``."""
    return await sql.fetchrow(
        "INSERT INTO fan_subscriptions (id, subscriber, creator, tier, subscription_id, item_id, status, "
        "client_secret, current_period_end, cancel_at_period_end, access_until, started_notified, idem_key, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, NULL, false, $10, "
        "now()) ON CONFLICT (subscription_id) DO UPDATE SET idem_key = fan_subscriptions.idem_key RETURNING *",
        sub_id,
        subscriber,
        creator,
        tier_id,
        subscription_id,
        item_id,
        status,
        client_secret,
        current_period_end,
        idem,
    )


async def change_subscription_tier(
    sub_id: int, tier_id: int, status: str, current_period_end: datetime | None
) -> asyncpg.Record | None:
    """Move the subscription to ``tier_id`` (a ``None`` period end keeps the stored one); the row."""
    return await sql.fetchrow(
        "UPDATE fan_subscriptions SET tier = $2, status = $3, current_period_end = COALESCE($4, "
        "current_period_end) WHERE id = $1 RETURNING *",
        sub_id,
        tier_id,
        status,
        current_period_end,
    )


async def cancel_subscription_now(sub_id: int, status: str) -> asyncpg.Record | None:
    """The subscription ended now and access with it; the row."""
    return await sql.fetchrow(
        "UPDATE fan_subscriptions SET status = $2, ended_at = now(), access_until = "
        "LEAST(access_until, now()) WHERE id = $1 RETURNING *",
        sub_id,
        status,
    )


async def cancel_subscription_at_period_end(sub_id: int, status: str) -> asyncpg.Record | None:
    """The subscription ends with its period; the row."""
    return await sql.fetchrow(
        "UPDATE fan_subscriptions SET cancel_at_period_end = true, status = $2 WHERE id = $1 RETURNING *",
        sub_id,
        status,
    )


async def subscriptions_of(subscriber: int, before: int | None, limit: int) -> list[asyncpg.Record]:
    """``subscriber``'s subscriptions with ids below ``before`` (all if ``None``), newest first."""
    return await sql.fetch(
        "SELECT * FROM fan_subscriptions WHERE subscriber = $1 AND ($2::bigint IS NULL OR id < $2) "
        "ORDER BY id DESC LIMIT $3",
        subscriber,
        before,
        limit,
    )


async def subscription_of(sub_id: int, subscriber: int, *, for_update: bool = False) -> asyncpg.Record | None:
    """The subscription ``sub_id`` if it is ``subscriber``'s; with ``for_update``, locked until the caller's
    transaction ends."""
    return await sql.fetchrow(
        "SELECT * FROM fan_subscriptions WHERE id = $1 AND subscriber = $2" + (" FOR UPDATE" if for_update else ""),  # noqa: S608 — a constant lock clause; values are $n
        sub_id,
        subscriber,
    )


async def lock_subscription(subscription_id: str) -> asyncpg.Record | None:
    """The fan subscription with Stripe id ``subscription_id``, locked ``FOR UPDATE`` until the caller's
    transaction ends."""
    return await sql.fetchrow("SELECT * FROM fan_subscriptions WHERE subscription_id = $1 FOR UPDATE", subscription_id)


async def tier_id_by_price(price_id: str) -> Any:
    """The tier whose Stripe Price is ``price_id``, ``None`` if none."""
    return await sql.fetchval("SELECT id FROM subscription_tiers WHERE price_id = $1", price_id)


async def mirror_subscription(
    sub_id: int, status: str, cancel_at_period_end: bool, current_period_end: datetime | None, tier: int | None
) -> None:
    """Mirror the Stripe subscription's state (``None`` period end or tier keeps the stored one)."""
    await sql.execute(
        "UPDATE fan_subscriptions SET status = $2, cancel_at_period_end = $3, "
        "current_period_end = COALESCE($4, current_period_end), tier = COALESCE($5, tier) WHERE id = $1",
        sub_id,
        status,
        cancel_at_period_end,
        current_period_end,
        tier,
    )


async def end_subscription(sub_id: int) -> None:
    """The subscription ended (once): access stops now at the latest."""
    await sql.execute(
        "UPDATE fan_subscriptions SET ended_at = COALESCE(ended_at, now()), "
        "access_until = LEAST(access_until, now()) WHERE id = $1",
        sub_id,
    )


async def cut_access_to_grace(sub_id: int, grace_seconds: float) -> None:
    """Access lasts ``grace_seconds`` from now at the most."""
    await sql.execute(
        "UPDATE fan_subscriptions SET access_until = LEAST(access_until, now() + make_interval(secs => $2)) "
        "WHERE id = $1",
        sub_id,
        grace_seconds,
    )


async def grant_access_until(sub_id: int, until: datetime) -> None:
    """Access lasts until ``until``, unless the subscription ended."""
    await sql.execute(
        "UPDATE fan_subscriptions SET access_until = $2 WHERE id = $1 AND ended_at IS NULL", sub_id, until
    )


async def mark_started_notified(sub_id: int) -> None:
    """The creator was told of this subscription's start."""
    await sql.execute("UPDATE fan_subscriptions SET started_notified = true WHERE id = $1", sub_id)
