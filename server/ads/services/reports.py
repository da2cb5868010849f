"""Reports: per campaign and per day for its advertiser, and every campaign's revenue for admins."""

from __future__ import annotations

from server import cursor
from server.ads import queries, schemas
from server.ads.runtime import AdsRuntime
from server.ads.services.campaigns import TOP, CampaignService
from server.deps import CurrentUser
from server.errors import ValidationFailed


def _ecpm(spent_milli: int, impressions: int) -> int:
    # Thousandths per impression are minor units per 1,000 impressions.
    return round(spent_milli / impressions) if impressions else 0


class ReportService:
    def __init__(self, runtime: AdsRuntime) -> None:
        self.rt = runtime

    async def campaign(self, user: CurrentUser, campaign_id: int) -> schemas.Report:
        row = await CampaignService(self.rt).owned(user, campaign_id, staff_may_read=True)
        await self.rt.flush()  # an exact report: what the hot state counted so far is written first
        row = await CampaignService(self.rt).load(campaign_id)
        days = await queries.days_of(campaign_id)
        imps, clicks, spent = row["impressions"], row["clicks"], row["spent_milli"]
        return schemas.Report(
            impressions=imps,
            clicks=clicks,
            ctr=round(clicks / imps, 6) if imps else 0.0,
            spend=spent // 1000,
            currency=row["currency"],
            ecpm=_ecpm(spent, imps),
            by_day=[
                schemas.DayReport(
                    date=d["day"], impressions=d["impressions"], clicks=d["clicks"], spend=d["spend_milli"] // 1000
                )
                for d in days
            ],
        )

    async def revenue(self, limit: int, cur: str | None) -> schemas.Revenue:
        await self.rt.flush()
        values = cursor.decode(self.rt.secret_key, "ads-revenue", cur)
        try:
            below = int(values[0]) if values else TOP
        except (TypeError, ValueError) as exc:
            raise ValidationFailed("cursor is not valid for this list") from exc
        rows = await queries.revenue_page(below, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        totals = [
            schemas.CurrencyRevenue(
                currency=t["currency"],
                impressions=int(t["impressions"]),
                clicks=int(t["clicks"]),
                revenue=int(t["spent_milli"]) // 1000,
                ecpm=_ecpm(int(t["spent_milli"]), int(t["impressions"])),
            )
            for t in await queries.revenue_totals()
        ]
        items = [
            schemas.CampaignRevenue(
                campaign_id=str(r["id"]),
                name=r["name"],
                advertiser=r["username"],
                status=r["status"],
                currency=r["currency"],
                impressions=r["impressions"],
                clicks=r["clicks"],
                spend=r["spent_milli"] // 1000,
            )
            for r in rows
        ]
        nxt = cursor.encode(self.rt.secret_key, "ads-revenue", [rows[-1]["id"]]) if more and rows else None
        return schemas.Revenue(totals=totals, items=items, next_cursor=nxt)
