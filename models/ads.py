"""Ads: campaigns (with their one creative), daily delivery stats and the spend batches that wrote them.

Money is integer minor units of ``currency``. Spend is also kept in thousandths of a minor unit
(``*_milli``): one impression at a CPM bid of ``bid_cpm`` costs exactly ``bid_cpm`` thousandths.
"""

from enum import Enum

from piccolo.columns import JSONB, BigInt, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from models.accounts import User
from models.ids import new_id


class AdCampaign(Table, tablename="ad_campaigns"):
    class Status(str, Enum):
        in_review = "in_review"
        active = "active"
        paused = "paused"
        rejected = "rejected"
        ended = "ended"

    id = BigInt(primary_key=True, default=new_id)
    advertiser = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=120)
    currency = Varchar(length=3, help_text="ISO 4217, lower-case")
    budget_total = BigInt(help_text="minor units")
    budget_daily = BigInt(null=True, default=None, help_text="minor units per UTC day; none = paced over the schedule")
    bid_cpm = BigInt(help_text="minor units per 1,000 counted impressions")
    start_at = Timestamptz()
    end_at = Timestamptz(null=True, default=None)
    targeting = JSONB(default={}, help_text="{hashtags, languages, platforms}; an empty list matches everyone")
    cap_impressions = Integer(help_text="frequency cap: impressions per user per cap_hours")
    cap_hours = Integer()
    headline = Varchar(length=90)
    text = Text()
    image_id = BigInt(null=True, default=None, help_text="a post_media image of the advertiser")
    video_id = BigInt(null=True, default=None, help_text="a ready video of the advertiser")
    click_url = Varchar(length=2000, help_text="https only")
    status = Varchar(length=16, choices=Status, default=Status.in_review.value, index=True)
    review_note = Text(null=True, default=None)
    reviewed_by = BigInt(null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    impressions = BigInt(default=0, help_text="counted impressions written by spend batches")
    clicks = BigInt(default=0)
    spent_milli = BigInt(default=0, help_text="spend written by spend batches, thousandths of a minor unit")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AdDailyStat(Table, tablename="ad_daily_stats"):
    """One row per campaign and UTC day (unique pair, see the migration)."""

    id = BigInt(primary_key=True, default=new_id)
    campaign = ForeignKey(AdCampaign, null=False, on_delete=OnDelete.cascade)
    day = Date()
    impressions = BigInt(default=0)
    clicks = BigInt(default=0)
    spend_milli = BigInt(default=0)


class AdSpendBatch(Table, tablename="ad_spend_batches"):
    """Counted impressions, clicks and spend moved from the hot state to PostgreSQL in one transaction.

    ``batch_key`` is the hot state's name for the batch: a batch retried after a crash is applied once.
    """

    id = BigInt(primary_key=True, default=new_id)
    batch_key = Varchar(length=64, unique=True)
    impressions = BigInt(default=0)
    clicks = BigInt(default=0)
    spend_milli = BigInt(default=0)
    lines = JSONB(default=[], help_text="[[campaign, day, impressions, clicks, spend_milli], ...]")
    created_at = Timestamptz(default=TimestamptzNow())
