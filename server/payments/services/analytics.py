"""Creator and platform analytics, computed from the ledger and the subscriptions (nothing stored)."""

from __future__ import annotations

from server import sql
from server.payments import ledger, schemas
from server.payments.services.common import Context

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


def _ratio(ended: int, base: int) -> float:
    return round(ended / base, 4) if base else 0.0


class AnalyticsService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _currency(self, currency: str | None) -> str:
        return (currency or self.ctx.settings.currencies[0]).lower()

    async def creator(self, user_id: int, currency: str | None) -> schemas.CreatorAnalytics:
        self.ctx.require()
        cur = self._currency(currency)
        rows = await sql.fetch(
            "SELECT to_char(date_trunc('month', t.created_at), 'YYYY-MM') AS month, t.kind, -sum(e.amount) AS total "
            "FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn WHERE e.account = ANY($1) "
            "AND e.currency = $2 AND t.type IN ('charge', 'refund', 'dispute_lost') GROUP BY 1, 2 ORDER BY 1",
            [ledger.creator_account(user_id, b) for b in ledger.EARNING_BUCKETS],
            cur,
        )
        months: dict[str, schemas.MonthEarnings] = {}
        for r in rows:
            month = months.setdefault(r["month"], schemas.MonthEarnings(month=r["month"]))
            if r["kind"] in ledger.KINDS:
                setattr(month, r["kind"], int(r["total"]))
        mrr = await sql.fetchrow(_MRR + " AND s.creator = $2", cur, user_id)
        churn = await sql.fetchrow(_CHURN + " AND s.creator = $2", cur, user_id)
        assert mrr is not None and churn is not None
        return schemas.CreatorAnalytics(
            currency=cur,
            by_month=list(months.values()),
            subscribers=int(mrr["n"]),
            mrr=int(mrr["mrr"]),
            churn=_ratio(churn["ended"], churn["base"]),
        )

    async def platform(self, currency: str | None) -> schemas.PlatformAnalytics:
        self.ctx.require()
        cur = self._currency(currency)
        totals = await sql.fetchrow(
            "SELECT COALESCE(sum(e.amount) FILTER (WHERE e.account = $2 AND t.type = 'charge' AND e.amount > 0), 0) "
            "AS gmv, COALESCE(-sum(e.amount) FILTER (WHERE e.account = $3), 0) AS revenue, "
            "COALESCE(-sum(e.amount) FILTER (WHERE e.account = $4), 0) AS ads "
            "FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn WHERE e.currency = $1",
            cur,
            ledger.CLEARING,
            ledger.REVENUE,
            ledger.ADS_REVENUE,
        )
        mrr = await sql.fetchrow(_MRR, cur)
        churn = await sql.fetchrow(_CHURN, cur)
        assert totals is not None and mrr is not None and churn is not None
        return schemas.PlatformAnalytics(
            currency=cur,
            gmv=int(totals["gmv"]),
            platform_revenue=int(totals["revenue"]),
            ads_revenue=int(totals["ads"]),
            mrr=int(mrr["mrr"]),
            arr=int(mrr["mrr"]) * 12,
            churn=_ratio(churn["ended"], churn["base"]),
            active_subscriptions=int(mrr["n"]),
        )
