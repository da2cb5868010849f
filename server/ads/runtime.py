"""The ads domain's long-lived state: the campaign snapshot, the hot state, and their two loops.

Created once per app in the lifespan. The refresher reloads the snapshot of active campaigns (and
seeds the hot state's spend from PostgreSQL where it has none); the flusher moves counted impressions,
clicks and spend from the hot state to PostgreSQL in batches and ends campaigns past their schedule.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from datetime import date
from typing import Any

import structlog

from server import db, events
from server.ads import queries, tokens
from server.ads.config import AdsSettings
from server.ads.delivery import AdDelivery, utc_day
from server.ads.hot import HotState, MemoryHotState, RedisHotState
from server.ads.schemas import Media, Sponsor
from server.ads.snapshot import ActiveCampaign, Snapshot, epoch
from server.outbox import emit_many
from server.payments import ledger
from server.realtime import kinds
from server.redis_lane import RedisLane

log = structlog.get_logger(__name__)


class AdsRuntime:
    def __init__(
        self,
        settings: AdsSettings,
        secret_key: str,
        redis: Any | None,
        bus: events.EventBus,
        lane: RedisLane | None = None,
    ) -> None:
        """``lane``: the process's shared Redis connection for per-request reads (``HomeRead.lane``), which
        each feed page's ``select`` goes out on; ``None`` (a cluster, or no Redis) uses redis-py's script call."""
        self.settings = settings
        self.bus = bus  # posts, likes, comments and blocks arrive on it while the runtime runs (start/stop)
        self.secret_key = secret_key  # list cursors
        self.token_key = tokens.derive_key(secret_key)
        self.hot: HotState = RedisHotState(redis, lane=lane) if redis is not None else MemoryHotState()
        self.snapshot = Snapshot()
        self.delivery = AdDelivery(self)
        self._tasks: list[asyncio.Task[None]] = []
        self._refresh_lock = asyncio.Lock()
        self._built: dict[tuple[Any, ...], ActiveCampaign] = {}  # the last reload's campaigns by row values
        self._flush_lock = asyncio.Lock()
        self._stopping = False

    # -- snapshot ----------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Reload the snapshot of active campaigns from PostgreSQL (and seed the hot state)."""
        async with self._refresh_lock:
            rows = await queries.active_campaigns()
            campaigns = self._campaigns(rows)
            sponsors = sorted({c.advertiser for c in campaigns})
            blocks: dict[int, set[int]] = {}
            for r in await queries.blocks_of(sponsors):
                blocks.setdefault(r["blocker"], set()).add(r["blocked"])
                blocks.setdefault(r["blocked"], set()).add(r["blocker"])
            day = utc_day(time.time())
            await self.hot.seed([(r["id"], r["spent_milli"], day, r["today_milli"]) for r in rows])
            self.snapshot = Snapshot.build(campaigns, blocks, time.time())

    def _campaigns(self, rows: list[Any]) -> list[ActiveCampaign]:
        """Each row as an ``ActiveCampaign``, reusing the last reload's object for a row whose every column is
        unchanged (the reload runs every few seconds on every process; rebuilding 1,000 campaigns each time
        was a steady share of a feed worker's CPU)."""
        built: dict[tuple[Any, ...], ActiveCampaign] = {}
        out = []
        for r in rows:
            try:
                key = tuple(r.values())
                hash(key)
            except TypeError:  # an unhashable column value: build it every time
                out.append(_active(r))
                continue
            campaign = self._built.get(key) or _active(r)
            built[key] = campaign
            out.append(campaign)
        self._built = built
        return out

    # -- batches -------------------------------------------------------------------------------------

    async def flush(self) -> int:
        """Write every pending batch to PostgreSQL; how many counted events it held."""
        async with self._flush_lock:
            written = 0
            for key, counts in await self.hot.take_batches(f"{int(time.time() * 1000)}-{secrets.token_hex(4)}"):
                lines = _lines(counts)
                async with db.transaction():
                    spent = await queries.apply_batch(key, lines)
                    if spent:
                        await _record_revenue(key, spent)
                await self.hot.finish_batch(key)
                written += sum(counts.values())
            return written

    # -- domain events (interests and blocks) ---------------------------------------------------------

    async def _on_post(self, event: events.PostPublished) -> None:
        await self._interest(event.actor_id, event.post_id)

    async def _on_like(self, event: events.Liked) -> None:
        await self._interest(event.actor_id, event.post_id)

    async def _on_comment(self, event: events.Commented) -> None:
        await self._interest(event.actor_id, event.post_id)

    async def _interest(self, user_id: int, post_id: int) -> None:
        tags = await queries.post_hashtags(post_id)
        if tags:
            await self.hot.add_interests(user_id, tags, time.time())

    async def _on_block(self, event: events.Blocked) -> None:
        self.snapshot.add_block(event.actor_id, event.target_id)

    _HANDLERS = (
        (events.PostPublished, "_on_post"),
        (events.Liked, "_on_like"),
        (events.Commented, "_on_comment"),
        (events.Blocked, "_on_block"),
    )

    # -- lifecycle -----------------------------------------------------------------------------------

    async def _every(self, seconds: float, step: Any, name: str) -> None:
        # The flag as well as the cancellation: redis-py can swallow a cancellation on Python 3.11 (its
        # wait_for), and a loop that lost it must still end instead of holding up shutdown.
        while not self._stopping:
            await asyncio.sleep(seconds)
            try:
                await step()
            except Exception:
                log.exception(name)

    async def _tick(self) -> None:
        if await queries.end_finished():
            await self.refresh()
        await self.flush()

    async def start(self) -> None:
        for event_type, method in self._HANDLERS:
            self.bus.subscribe(event_type, getattr(self, method))
        try:
            await self.refresh()
        except Exception:
            log.exception("ads_snapshot_failed")  # the refresher retries; feeds serve no ads meanwhile
        self._tasks = [
            asyncio.create_task(self._every(self.settings.refresh_seconds, self.refresh, "ads_refresh_failed")),
            asyncio.create_task(self._every(self.settings.flush_seconds, self._tick, "ads_flush_failed")),
        ]

    async def stop(self) -> None:
        self._stopping = True
        pending = set(self._tasks)
        for _ in range(3):  # cancel again if a client library swallowed the first cancellation
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=2)
            if not pending:
                break
        if pending:
            log.error("ads_loops_did_not_stop", count=len(pending))
        for event_type, method in self._HANDLERS:
            self.bus.unsubscribe(event_type, getattr(self, method))
        try:
            await asyncio.wait_for(self.flush(), 10)
        except Exception:
            log.exception("ads_final_flush_failed")  # the batch stays in the hot state (Redis) for the next run


def _lines(counts: dict[str, int]) -> list[tuple[int, date, int, int, int]]:
    """``{"{campaign}:{day}:{i|c|s}": n}`` -> ``[(campaign, day, impressions, clicks, spend_milli)]``."""
    acc: dict[tuple[int, str], list[int]] = {}
    for field, value in counts.items():
        campaign, day, metric = field.split(":")
        row = acc.setdefault((int(campaign), day), [0, 0, 0])
        row["ics".index(metric)] += value
    return [(c, date.fromisoformat(d), i, k, s) for (c, d), (i, k, s) in sorted(acc.items())]


async def _record_revenue(batch: str, spent: list[Any]) -> None:
    """Ad revenue of a batch, per campaign, in whole minor units (thousandths carry to the next batch).

    In the batch's transaction: one ledger posting per campaign (advertiser charged, platform ad revenue;
    the ref is unique per batch and campaign) and an ``ads.spend`` event on the advertiser's channel.
    """
    out = []
    for r in spent:
        amount = r["after"] // 1000 - r["before"] // 1000
        if amount > 0:
            await ledger.post_ad_revenue(r["advertiser"], amount, r["currency"], ref=f"{batch}:campaign:{r['id']}")
            data = {"campaign_id": str(r["id"]), "amount": amount, "currency": r["currency"], "batch": batch}
            out.append((kinds.user(r["advertiser"]), "ads.spend", data))
    await emit_many(out)


def _active(r: Any) -> ActiveCampaign:
    t = r["targeting"]
    if isinstance(t, str):
        import msgspec

        t = msgspec.json.decode(t)
    start, end = epoch(r["start_at"]), epoch(r["end_at"])
    budget = r["budget_total"] * 1000
    daily = r["budget_daily"] * 1000 if r["budget_daily"] is not None else -1
    if daily >= 0:
        pace = daily
    elif math.isfinite(end):
        pace = math.ceil(budget / max(1, math.ceil((end - start) / 86400)))
    else:
        pace = -1
    media = None
    if r["image_url"] is not None:
        media = Media(type="image", url=r["image_url"], width=r["image_width"], height=r["image_height"])
    elif r["video_id"] is not None:
        media = Media(type="video", video_id=str(r["video_id"]))
    sponsor = Sponsor(
        id=str(r["u_id"]),
        username=r["u_username"],
        display_name=r["u_display_name"],
        avatar_url=r["u_avatar_url"],
        followers_count=r["u_followers_count"],
        following_count=r["u_following_count"],
        posts_count=r["u_posts_count"],
        is_private=r["u_is_private"],
    )
    return ActiveCampaign(
        id=r["id"],
        advertiser=r["advertiser"],
        currency=r["currency"],
        bid_cpm=r["bid_cpm"],
        budget_milli=budget,
        daily_milli=daily,
        pace_daily_milli=pace,
        start=start,
        end=end,
        hashtags=tuple(t.get("hashtags") or ()),
        languages=frozenset(t.get("languages") or ()),
        platforms=frozenset(t.get("platforms") or ()),
        cap_impressions=r["cap_impressions"],
        cap_seconds=r["cap_hours"] * 3600,
        headline=r["headline"],
        text=r["text"],
        media=media,
        click_url=r["click_url"],
        sponsor=sponsor,
    )
