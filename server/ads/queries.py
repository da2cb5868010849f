"""The ads domain's set-based SQL: snapshot loads, batch writes and report aggregates, each saying why raw."""

from __future__ import annotations

from datetime import date
from typing import Any

from models.ids import new_id
from server import sql

_USER_COLS = "id, username, display_name, avatar_url, followers_count, following_count, posts_count, is_private"
_SPONSOR = ", ".join(f"u.{c} AS u_{c}" for c in _USER_COLS.split(", "))  # constant column names only


async def active_campaigns() -> list[Any]:
    """Active campaigns with budget left, their sponsor, media and today's durable spend, in one pass.

    Raw: three joins and a filtered aggregate the snapshot needs in one round trip.
    """
    return await sql.fetch(
        f"""SELECT c.*, {_SPONSOR}, m.url AS image_url, m.width AS image_width, m.height AS image_height,
                   coalesce(d.spend_milli, 0) AS today_milli
            FROM ad_campaigns c JOIN users u ON u.id = c.advertiser
            LEFT JOIN post_media m ON m.id = c.image_id
            LEFT JOIN ad_daily_stats d ON d.campaign = c.id AND d.day = (now() AT TIME ZONE 'utc')::date
            WHERE c.status = 'active' AND u.suspended_at IS NULL
              AND (c.end_at IS NULL OR c.end_at > now())
              AND c.spent_milli + c.bid_cpm <= c.budget_total * 1000"""  # noqa: S608 - constant columns
    )


async def blocks_of(users: list[int]) -> list[Any]:
    """Blocks either way between ``users`` (sponsors) and anyone; raw: an OR over both indexed sides."""
    if not users:
        return []
    return await sql.fetch(
        "SELECT blocker, blocked FROM blocks WHERE blocker = ANY($1::bigint[]) "
        "UNION SELECT blocker, blocked FROM blocks WHERE blocked = ANY($1::bigint[])",
        users,
    )


async def end_finished() -> int:
    """Move campaigns past their end to ``ended``; how many."""
    return sql.changed(
        await sql.execute(
            "UPDATE ad_campaigns SET status = 'ended', updated_at = now() "
            "WHERE status IN ('in_review', 'active', 'paused') AND end_at <= now()"
        )
    )


async def apply_batch(key: str, lines: list[tuple[int, date, int, int, int]]) -> list[Any] | None:
    """Write one batch (in the caller's transaction); ``None`` if this batch key was applied before.

    Raw: set-based upserts of many (campaign, day) rows in two statements. Returns, per campaign, its
    advertiser, currency and spend (thousandths) before and after, for the revenue entries.
    """
    tot = [sum(x[2] for x in lines), sum(x[3] for x in lines), sum(x[4] for x in lines)]
    payload = [[c, d.isoformat(), i, k, s] for c, d, i, k, s in lines]
    inserted = await sql.fetchval(
        "INSERT INTO ad_spend_batches (id, batch_key, impressions, clicks, spend_milli, lines, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6::jsonb, now()) ON CONFLICT (batch_key) DO NOTHING RETURNING id",
        new_id(),
        key,
        *tot,
        sql_json(payload),
    )
    if inserted is None:
        return None
    cols: list[list[Any]] = [[x[n] for x in lines] for n in range(5)]
    # Rows of campaigns deleted since serving are skipped (the JOIN), not an FK error.
    await sql.execute(
        """INSERT INTO ad_daily_stats (id, campaign, day, impressions, clicks, spend_milli)
           SELECT x.id, x.c, x.d, x.i, x.k, x.s
           FROM unnest($1::bigint[], $2::bigint[], $3::date[], $4::bigint[], $5::bigint[], $6::bigint[])
                AS x(id, c, d, i, k, s)
           JOIN ad_campaigns ac ON ac.id = x.c
           ON CONFLICT (campaign, day) DO UPDATE SET impressions = ad_daily_stats.impressions + EXCLUDED.impressions,
               clicks = ad_daily_stats.clicks + EXCLUDED.clicks,
               spend_milli = ad_daily_stats.spend_milli + EXCLUDED.spend_milli""",
        [new_id() for _ in lines],
        list(cols[0]),
        list(cols[1]),
        list(cols[2]),
        list(cols[3]),
        list(cols[4]),
    )
    return await sql.fetch(
        """UPDATE ad_campaigns ac SET impressions = ac.impressions + x.i, clicks = ac.clicks + x.k,
               spent_milli = ac.spent_milli + x.s
           FROM (SELECT c, sum(i)::bigint AS i, sum(k)::bigint AS k, sum(s)::bigint AS s
                 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS t(c, i, k, s) GROUP BY c) x
           WHERE ac.id = x.c
           RETURNING ac.id, ac.advertiser, ac.currency, ac.spent_milli - x.s AS before, ac.spent_milli AS after""",
        list(cols[0]),
        list(cols[2]),
        list(cols[3]),
        list(cols[4]),
    )


def sql_json(value: Any) -> str:
    import msgspec

    return msgspec.json.encode(value).decode()


async def days_of(campaign_id: int) -> list[Any]:
    return await sql.fetch(
        "SELECT day, impressions, clicks, spend_milli FROM ad_daily_stats WHERE campaign = $1 ORDER BY day",
        campaign_id,
    )


async def revenue_totals() -> list[Any]:
    """Revenue per currency over every campaign; raw: an aggregate."""
    return await sql.fetch(
        "SELECT currency, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(spent_milli) AS spent_milli "
        "FROM ad_campaigns GROUP BY currency ORDER BY currency"
    )


async def revenue_page(below: int, limit: int) -> list[Any]:
    """Campaigns that spent, newest first, with the advertiser's username; raw: a keyset page with a join."""
    return await sql.fetch(
        "SELECT c.id, c.name, c.status, c.currency, c.impressions, c.clicks, c.spent_milli, u.username "
        "FROM ad_campaigns c JOIN users u ON u.id = c.advertiser "
        "WHERE c.id < $1 AND c.status <> 'in_review' ORDER BY c.id DESC LIMIT $2",
        below,
        limit,
    )


async def post_hashtags(post_id: int) -> list[str]:
    row = await sql.fetchrow("SELECT hashtags FROM posts WHERE id = $1", post_id)
    return list(row["hashtags"]) if row is not None and row["hashtags"] else []


async def owned_image(image_id: int, owner: int) -> bool:
    return bool(await sql.fetchval("SELECT 1 FROM post_media WHERE id = $1 AND owner = $2", image_id, owner))


async def owned_ready_video(video_id: int, owner: int) -> bool:
    """Whether ``owner`` has this ready video (false until the video domain's table exists)."""
    if not await sql.fetchval("SELECT to_regclass('videos') IS NOT NULL"):
        return False
    return bool(
        await sql.fetchval("SELECT 1 FROM videos WHERE id = $1 AND owner = $2 AND status = 'ready'", video_id, owner)
    )
