"""Ad selection for one feed page: the hot path, so no SQL and at most one hot-state round trip.

Eligibility that does not depend on the viewer's history (active, in schedule, platform, languages,
blocks) is checked against the in-process snapshot; budget, pacing, hashtag interests and the frequency
cap are checked, and a cap slot reserved, by the hot state's atomic ``select``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from server.ads import tokens
from server.ads.hot import Candidate
from server.ads.schemas import Ad, AdSlot
from server.ads.targeting import languages_of, platform_of

if TYPE_CHECKING:
    from server.ads.runtime import AdsRuntime

DAY = 86400.0


def utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).date().isoformat()


class AdDelivery:
    def __init__(self, runtime: AdsRuntime) -> None:
        self.rt = runtime

    async def place(self, viewer_id: int | None, item_count: int, headers: Mapping[str, str]) -> list[AdSlot]:
        """Ads for a page of ``item_count`` posts served to ``viewer_id``: at most one per ``posts_per_ad``."""
        settings = self.rt.settings
        want = item_count // settings.posts_per_ad
        snap = self.rt.snapshot
        if viewer_id is None or want == 0 or not settings.enabled or not snap.by_id:
            return []
        now = time.time()
        day = utc_day(now)
        elapsed = (now % DAY) / DAY
        pace_share = min(1.0, elapsed + settings.pacing_lead)
        langs = languages_of(headers.get("accept-language", ""))
        candidates: list[Candidate] = []
        for c in snap.ranked.get(platform_of(headers.get("user-agent", "")), ()):
            if not (c.start <= now < c.end):
                continue
            if c.languages and c.languages.isdisjoint(langs):
                continue
            blocked = snap.blocks.get(c.advertiser)
            if blocked is not None and viewer_id in blocked:
                continue
            # Even pacing: by now at most this share of the day's budget (never less than one impression).
            pace = -1 if c.pace_daily_milli < 0 else max(int(c.pace_daily_milli * pace_share), c.bid_cpm)
            candidates.append(
                Candidate(c.id, c.bid_cpm, c.budget_milli, pace, c.cap_impressions, c.cap_seconds, c.hashtags)
            )
            if len(candidates) >= settings.max_candidates:
                break
        if not candidates:
            return []
        picked = await self.rt.hot.select(viewer_id, now, day, want, candidates)
        slots: list[AdSlot] = []
        for n, campaign_id in enumerate(picked):
            chosen = snap.by_id.get(campaign_id)
            if chosen is None:
                continue
            c = chosen
            key = self.rt.token_key
            impression = tokens.sign(key, tokens.IMPRESSION, c.id, viewer_id, c.bid_cpm, now)
            click = tokens.sign(key, tokens.CLICK, c.id, viewer_id, c.bid_cpm, now)
            ad = Ad(
                id=str(c.id),
                campaign_id=str(c.id),
                headline=c.headline,
                text=c.text,
                media=c.media,
                sponsor=c.sponsor,
                impression_token=impression,
                click_url=f"/api/v1/ads/click/{click}",
            )
            slots.append(AdSlot(after=(n + 1) * settings.posts_per_ad - 1, ad=ad))
        return slots
