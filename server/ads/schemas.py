"""Wire types of the ads domain: campaigns, review, served ads, reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

Minor = Annotated[int, msgspec.Meta(gt=0, le=10**12, description="integer minor units, > 0")]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{3}$", description="ISO 4217, lower-case")]
HttpsUrl = Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#]\S*)?$")]
# A hashtag as posts store them: word characters, optionally written with a leading '#'.
Hashtag = Annotated[str, msgspec.Meta(pattern=r"^#?\w{1,100}$")]
Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$", description="ISO 639 code, lower-case")]
Platform = Literal["ios", "android", "web"]
Status = Literal["in_review", "active", "paused", "rejected", "ended"]
AnId = Annotated[str, msgspec.Meta(pattern=r"^[1-9][0-9]{0,18}$")]


class Targeting(msgspec.Struct, forbid_unknown_fields=True):
    """Who may see the ad; an empty (or missing) list matches everyone."""

    hashtags: Annotated[list[Hashtag], msgspec.Meta(max_length=50)] = []
    languages: Annotated[list[Language], msgspec.Meta(max_length=20)] = []
    platforms: Annotated[list[Platform], msgspec.Meta(max_length=3)] = []


class FrequencyCap(msgspec.Struct, forbid_unknown_fields=True):
    """At most ``impressions`` of this campaign per user per ``hours``."""

    impressions: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    hours: Annotated[int, msgspec.Meta(ge=1, le=720)]


class Creative(msgspec.Struct, forbid_unknown_fields=True):
    headline: Annotated[str, msgspec.Meta(min_length=1, max_length=90)]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    click_url: HttpsUrl
    image_id: AnId | None = None
    video_id: AnId | None = None


class CampaignCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    currency: Currency
    budget_total: Minor
    bid_cpm: Minor
    start_at: datetime
    frequency_cap: FrequencyCap
    creative: Creative
    budget_daily: Minor | None = None
    end_at: datetime | None = None
    targeting: Targeting = msgspec.field(default_factory=Targeting)


class CampaignUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """``PATCH``: pause or resume, change budgets or the bid; only the fields sent change."""

    status: Literal["paused", "active"] | msgspec.UnsetType = msgspec.UNSET
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)] | msgspec.UnsetType = msgspec.UNSET
    budget_total: Minor | msgspec.UnsetType = msgspec.UNSET
    budget_daily: Minor | msgspec.UnsetType | None = msgspec.UNSET
    bid_cpm: Minor | msgspec.UnsetType = msgspec.UNSET
    end_at: datetime | msgspec.UnsetType | None = msgspec.UNSET


class Rejection(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class Media(msgspec.Struct):
    """The creative's image (``url``) or ready video (``video_id``, ``thumbnail_url``)."""

    type: Literal["image", "video"]
    url: str | None = None
    video_id: str | None = None
    thumbnail_url: str | None = None
    width: int | None = None
    height: int | None = None


class Campaign(msgspec.Struct):
    id: str
    name: str
    status: Status
    currency: str
    budget_total: int
    budget_daily: int | None
    bid_cpm: int
    start_at: datetime
    end_at: datetime | None
    targeting: Targeting
    frequency_cap: FrequencyCap
    creative: Creative
    review_note: str | None
    impressions: int
    clicks: int
    spend: int
    created_at: datetime
    updated_at: datetime


class CampaignPage(msgspec.Struct):
    items: list[Campaign]
    next_cursor: str | None


class Sponsor(msgspec.Struct):
    """The advertiser, as a user (the same fields as a user in lists)."""

    id: str
    username: str
    display_name: str
    avatar_url: str | None
    followers_count: int
    following_count: int
    posts_count: int
    is_private: bool


class Ad(msgspec.Struct):
    id: str
    campaign_id: str
    headline: str
    text: str
    media: Media | None
    sponsor: Sponsor
    impression_token: str
    click_url: str


class AdSlot(msgspec.Struct):
    """``ad`` goes right after ``items[after]`` of the same page."""

    after: int
    ad: Ad


class ImpressionReport(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class DayReport(msgspec.Struct):
    date: date
    impressions: int
    clicks: int
    spend: int


class Report(msgspec.Struct):
    """Counted impressions and clicks; ``spend`` in minor units (rounded down), ``ecpm`` per 1,000 impressions."""

    impressions: int
    clicks: int
    ctr: float
    spend: int
    currency: str
    ecpm: int
    by_day: list[DayReport]


class CampaignRevenue(msgspec.Struct):
    campaign_id: str
    name: str
    advertiser: str
    status: Status
    currency: str
    impressions: int
    clicks: int
    spend: int


class CurrencyRevenue(msgspec.Struct):
    currency: str
    impressions: int
    clicks: int
    revenue: int
    ecpm: int


class Revenue(msgspec.Struct):
    """Admin view: revenue per currency, and campaigns by spend (paged)."""

    totals: list[CurrencyRevenue]
    items: list[CampaignRevenue]
    next_cursor: str | None
