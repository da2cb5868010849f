"""Campaigns: create, read, edit, pause and resume (advertisers); review (moderators and admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from models.ads import AdCampaign
from server import cursor
from server.ads import queries, schemas
from server.ads.runtime import AdsRuntime
from server.ads.targeting import normalize_hashtag
from server.deps import CurrentUser
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.guards import has_capability, has_role

TOP = (1 << 63) - 1


def to_wire(r: Any) -> schemas.Campaign:
    t = r["targeting"] if isinstance(r["targeting"], dict) else msgspec.json.decode(r["targeting"] or "{}")
    return schemas.Campaign(
        id=str(r["id"]),
        name=r["name"],
        status=r["status"],
        currency=r["currency"],
        budget_total=r["budget_total"],
        budget_daily=r["budget_daily"],
        bid_cpm=r["bid_cpm"],
        start_at=r["start_at"],
        end_at=r["end_at"],
        targeting=msgspec.convert(t, schemas.Targeting),
        frequency_cap=schemas.FrequencyCap(impressions=r["cap_impressions"], hours=r["cap_hours"]),
        creative=schemas.Creative(
            headline=r["headline"],
            text=r["text"],
            click_url=r["click_url"],
            image_id=str(r["image_id"]) if r["image_id"] is not None else None,
            video_id=str(r["video_id"]) if r["video_id"] is not None else None,
        ),
        review_note=r["review_note"],
        impressions=r["impressions"],
        clicks=r["clicks"],
        spend=r["spent_milli"] // 1000,
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def _aware(ts: datetime, field: str) -> datetime:
    if ts.tzinfo is None:
        raise ValidationFailed(f"{field} needs a time zone (e.g. 2030-01-01T00:00:00Z)")
    return ts.astimezone(UTC)


class CampaignService:
    def __init__(self, runtime: AdsRuntime) -> None:
        self.rt = runtime

    async def load(self, campaign_id: int) -> Any:
        rows = await AdCampaign.select().where(AdCampaign.id == campaign_id)
        if not rows:
            raise NotFound("no such campaign")
        return rows[0]

    async def owned(self, user: CurrentUser, campaign_id: int, *, staff_may_read: bool = False) -> Any:
        """The campaign if ``user`` owns it (or is staff, for reads); another's is a 404, never a 403."""
        row = await self.load(campaign_id)
        if row["advertiser"] == user.id or has_role(user, "admin"):
            return row
        if staff_may_read and has_role(user, "moderator"):
            return row
        raise NotFound("no such campaign")

    async def create(self, user: CurrentUser, data: schemas.CampaignCreate) -> schemas.Campaign:
        if not has_capability(user, "advertiser"):
            raise Forbidden("enroll as an advertiser first: POST /api/v1/advertisers/enroll")
        start = _aware(data.start_at, "start_at")
        end = _aware(data.end_at, "end_at") if data.end_at is not None else None
        if end is not None and end <= start:
            raise ValidationFailed("end_at must be after start_at")
        if data.budget_daily is not None and data.budget_daily > data.budget_total:
            raise ValidationFailed("budget_daily cannot exceed budget_total")
        c = data.creative
        image_id = int(c.image_id) if c.image_id else None
        video_id = int(c.video_id) if c.video_id else None
        if image_id is not None and video_id is not None:
            raise ValidationFailed("a creative has an image or a video, not both")
        if image_id is not None and not await queries.owned_image(image_id, user.id):
            raise ValidationFailed("image_id is not an image you uploaded")
        if video_id is not None and not await queries.owned_ready_video(video_id, user.id):
            raise ValidationFailed("video_id is not a ready video of yours")
        t = data.targeting
        targeting = {
            "hashtags": sorted({normalize_hashtag(h) for h in t.hashtags}),
            "languages": sorted(set(t.languages)),
            "platforms": sorted(set(t.platforms)),
        }
        row = AdCampaign(
            advertiser=user.id,
            name=data.name,
            currency=data.currency,
            budget_total=data.budget_total,
            budget_daily=data.budget_daily,
            bid_cpm=data.bid_cpm,
            start_at=start,
            end_at=end,
            targeting=targeting,
            cap_impressions=data.frequency_cap.impressions,
            cap_hours=data.frequency_cap.hours,
            headline=c.headline,
            text=c.text,
            image_id=image_id,
            video_id=video_id,
            click_url=c.click_url,
        )
        await row.save()
        return to_wire(await self.load(row.id))

    async def get(self, user: CurrentUser, campaign_id: int) -> schemas.Campaign:
        return to_wire(await self.owned(user, campaign_id, staff_may_read=True))

    async def mine(self, user: CurrentUser, limit: int, cur: str | None) -> schemas.CampaignPage:
        below = self._below("campaigns", cur)
        rows = (
            await AdCampaign.select()
            .where((AdCampaign.advertiser == user.id) & (AdCampaign.id < below))
            .order_by(AdCampaign.id, ascending=False)
            .limit(limit + 1)
        )
        return self._page("campaigns", rows, limit)

    async def review_queue(self, limit: int, cur: str | None) -> schemas.CampaignPage:
        """Campaigns waiting for review, oldest first."""
        values = cursor.decode(self.rt_key, "ads-review", cur)
        above = int(values[0]) if values else 0
        rows = (
            await AdCampaign.select()
            .where((AdCampaign.status == "in_review") & (AdCampaign.id > above))
            .order_by(AdCampaign.id)
            .limit(limit + 1)
        )
        return self._page("ads-review", rows, limit)

    @property
    def rt_key(self) -> str:
        return self.rt.secret_key

    def _below(self, kind: str, cur: str | None) -> int:
        values = cursor.decode(self.rt_key, kind, cur)
        try:
            return int(values[0]) if values else TOP
        except (TypeError, ValueError) as exc:
            raise ValidationFailed("cursor is not valid for this list") from exc

    def _page(self, kind: str, rows: list[Any], limit: int) -> schemas.CampaignPage:
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = cursor.encode(self.rt_key, kind, [rows[-1]["id"]]) if more and rows else None
        return schemas.CampaignPage(items=[to_wire(r) for r in rows], next_cursor=nxt)

    async def update(self, user: CurrentUser, campaign_id: int, data: schemas.CampaignUpdate) -> schemas.Campaign:
        row = await self.owned(user, campaign_id)
        changes: dict[Any, Any] = {}
        if data.status is not msgspec.UNSET and data.status != row["status"]:
            if row["status"] not in ("active", "paused"):
                raise Conflict(f"a campaign {row['status']} cannot be paused or resumed")
            changes[AdCampaign.status] = data.status
        if data.name is not msgspec.UNSET:
            changes[AdCampaign.name] = data.name
        total = row["budget_total"] if data.budget_total is msgspec.UNSET else data.budget_total
        daily = row["budget_daily"] if data.budget_daily is msgspec.UNSET else data.budget_daily
        if daily is not None and daily > total:
            raise ValidationFailed("budget_daily cannot exceed budget_total")
        if total * 1000 < row["spent_milli"]:
            raise ValidationFailed("budget_total cannot go below what the campaign has spent")
        if data.budget_total is not msgspec.UNSET:
            changes[AdCampaign.budget_total] = total
        if data.budget_daily is not msgspec.UNSET:
            changes[AdCampaign.budget_daily] = daily
        if data.bid_cpm is not msgspec.UNSET:
            changes[AdCampaign.bid_cpm] = data.bid_cpm
        if data.end_at is not msgspec.UNSET:
            end = _aware(data.end_at, "end_at") if data.end_at is not None else None
            if end is not None and end <= row["start_at"]:
                raise ValidationFailed("end_at must be after start_at")
            changes[AdCampaign.end_at] = end
        if changes:
            changes[AdCampaign.updated_at] = datetime.now(UTC)
            await AdCampaign.update(changes).where(AdCampaign.id == campaign_id)
            await self.rt.refresh()
        return to_wire(await self.load(campaign_id))

    async def review(self, campaign_id: int, reviewer: CurrentUser, approve: bool, note: str = "") -> schemas.Campaign:
        now = datetime.now(UTC)
        status = "active" if approve else "rejected"
        done = (
            await AdCampaign.update(
                {
                    AdCampaign.status: status,
                    AdCampaign.review_note: note or None,
                    AdCampaign.reviewed_by: reviewer.id,
                    AdCampaign.reviewed_at: now,
                    AdCampaign.updated_at: now,
                }
            )
            .where((AdCampaign.id == campaign_id) & (AdCampaign.status == "in_review"))
            .returning(AdCampaign.id)
        )
        if not done:
            row = await self.load(campaign_id)
            raise Conflict(f"this campaign is {row['status']}, not in review")
        await self.rt.refresh()
        return to_wire(await self.load(campaign_id))
