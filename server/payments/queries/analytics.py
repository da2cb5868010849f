"""Payments analytics: aggregates over the ledger and the subscriptions (earnings, MRR, churn, platform totals)."""

from __future__ import annotations

import asyncpg

from server import sql

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
