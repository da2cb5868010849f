"""Creator and platform analytics, computed from the ledger and the subscriptions (nothing stored)."""

from __future__ import annotations

from server.payments import ledger, schemas
from server.payments.queries import analytics as analytics_queries
from server.payments.services.common import Context


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
        rows = await analytics_queries.creator_earnings_by_month(
            [ledger.creator_account(user_id, b) for b in ledger.EARNING_BUCKETS], cur
        )
        months: dict[str, schemas.MonthEarnings] = {}
        for r in rows:
            month = months.setdefault(r["month"], schemas.MonthEarnings(month=r["month"]))
            if r["kind"] in ledger.KINDS:
                setattr(month, r["kind"], int(r["total"]))
        mrr = await analytics_queries.mrr(cur, user_id)
        churn = await analytics_queries.churn(cur, user_id)
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
        totals = await analytics_queries.platform_totals(cur, ledger.CLEARING, ledger.REVENUE, ledger.ADS_REVENUE)
        mrr = await analytics_queries.mrr(cur)
        churn = await analytics_queries.churn(cur)
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
