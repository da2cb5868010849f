"""Payments SQL: the predicates other domains embed in their visibility rules, and the statements the
payment services and the ledger run.

Raw SQL because the ledger is set-based (double-entry postings, balances summed per account, rows locked
``FOR UPDATE`` in a fixed order) and the analytics are aggregates with ``FILTER`` clauses the builder
cannot express. Each function runs on the caller's transaction when there is one (``server.sql`` joins
it), so a lock taken here is held until the caller's ``db.transaction()`` ends.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from server import sql


def bought(column: str, target: str) -> str:
    """SQL: viewer ``$1`` bought ``target`` (``payments.{column}``: ``post_id`` or ``video_id``) and keeps it.

    A purchase counts once Stripe said it succeeded (``payment_intent.succeeded`` sets ``status``) and
    until it is fully refunded (``refunded`` mirrors the ledger); a partial refund keeps access.
    """
    return (
        f"EXISTS (SELECT 1 FROM payments b WHERE b.{column} = {target} AND b.payer = $1 "  # noqa: S608 — column and target are SQL names its callers pass as literals, never input
        "AND b.status = 'succeeded' AND b.refunded < b.amount)"
    )


def subscriber_access(owner: str) -> str:
    """SQL: viewer ``$1`` has access to ``owner``'s (a column) subscriber-only content right now.

    ``access_until`` is set by ``invoice.paid``, cut to now + grace on ``past_due`` and to now when the
    subscription ends, so this one comparison is the whole rule (served by ``fan_subscriptions_access``).
    """
    return (
        "EXISTS (SELECT 1 FROM fan_subscriptions s "  # noqa: S608 — owner is a column name its callers pass as a literal, never input
        f"WHERE s.subscriber = $1 AND s.creator = {owner} AND s.access_until > now())"
    )


# --- analytics (aggregates over the ledger and the subscriptions) ---

# Monthly value of the subscriptions that give access now (a yearly price counts 1/12 per month).
_MRR = (
    "SELECT COALESCE(sum(CASE WHEN t.interval = 'year' THEN t.amount / 12 ELSE t.amount END), 0) AS mrr, "
    "count(*) AS n FROM fan_subscriptions s JOIN subscription_tiers t ON t.id = s.tier "
    "WHERE s.access_until > now() AND s.ended_at IS NULL AND t.currency = $1"
)
# Churn over the last 30 days: subscriptions that ended / those that had access during the window.
_CHURN = (
    "SELECT count(*) FILTER (WHERE s.ended_at > now() - interval '30 days') AS ended, "
    "count(*) FILTER (WHERE s.access_until > now() - interval '30 days' OR s.ended_at > now() - interval '30 days') "
    "AS base FROM fan_subscriptions s JOIN subscription_tiers t ON t.id = s.tier WHERE t.currency = $1"
)
_OF_CREATOR = " AND s.creator = $2"


async def creator_earnings_by_month(accounts: list[str], currency: str) -> list[asyncpg.Record]:
    """Per month and kind, what ``accounts`` earned from charges, refunds and lost disputes."""
    return await sql.fetch(
        "SELECT to_char(date_trunc('month', t.created_at), 'YYYY-MM') AS month, t.kind, -sum(e.amount) AS total "
        "FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn WHERE e.account = ANY($1) "
        "AND e.currency = $2 AND t.type IN ('charge', 'refund', 'dispute_lost') GROUP BY 1, 2 ORDER BY 1",
        accounts,
        currency,
    )


async def mrr(currency: str, creator: int | None = None) -> asyncpg.Record | None:
    """``mrr`` and ``n`` (subscriptions giving access now) in ``currency``, for one creator or all."""
    if creator is None:
        return await sql.fetchrow(_MRR, currency)
    return await sql.fetchrow(_MRR + _OF_CREATOR, currency, creator)


async def churn(currency: str, creator: int | None = None) -> asyncpg.Record | None:
    """``ended`` and ``base`` over the last 30 days in ``currency``, for one creator or all."""
    if creator is None:
        return await sql.fetchrow(_CHURN, currency)
    return await sql.fetchrow(_CHURN + _OF_CREATOR, currency, creator)


async def platform_totals(currency: str, clearing: str, revenue: str, ads_revenue: str) -> asyncpg.Record | None:
    """``gmv`` (charges into ``clearing``), ``revenue`` and ``ads`` (credits to those accounts) in ``currency``."""
    return await sql.fetchrow(
        "SELECT COALESCE(sum(e.amount) FILTER (WHERE e.account = $2 AND t.type = 'charge' AND e.amount > 0), 0) "
        "AS gmv, COALESCE(-sum(e.amount) FILTER (WHERE e.account = $3), 0) AS revenue, "
        "COALESCE(-sum(e.amount) FILTER (WHERE e.account = $4), 0) AS ads "
        "FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn WHERE e.currency = $1",
        currency,
        clearing,
        revenue,
        ads_revenue,
    )


# --- stripe_events (the webhook inbox) ---


async def store_event(event_id: str, type_: str, created: int, payload: str) -> Any:
    """Insert a delivered event once; ``True`` if it is new, ``None`` if it was already stored."""
    return await sql.fetchval(
        "INSERT INTO stripe_events (id, type, created, payload, received_at, outcome) "
        "VALUES ($1, $2, $3, $4::jsonb, now(), '') ON CONFLICT (id) DO NOTHING RETURNING true",
        event_id,
        type_,
        created,
        payload,
    )


async def lock_unprocessed_event(event_id: str) -> asyncpg.Record | None:
    """The stored event if not yet processed, locked ``FOR UPDATE`` until the caller's transaction ends."""
    return await sql.fetchrow("SELECT * FROM stripe_events WHERE id = $1 AND processed_at IS NULL FOR UPDATE", event_id)


async def mark_event_processed(event_id: str, outcome: str) -> None:
    """Record that the event was applied, with its outcome."""
    await sql.execute("UPDATE stripe_events SET processed_at = now(), outcome = $2 WHERE id = $1", event_id, outcome)
