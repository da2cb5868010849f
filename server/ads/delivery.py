"""Ad selection for one feed page: the hot path, so no SQL and at most one hot-state round trip.

Eligibility that does not depend on the viewer's history (active, in schedule, platform, languages,
blocks) is checked against the in-process snapshot; budget, pacing, hashtag interests and the frequency
cap are checked, and a cap slot reserved, by the hot state's atomic ``select``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from server.ads import tokens
from server.ads.schemas import Ad, AdSlot
from server.ads.snapshot import eligible
from server.ads.targeting import targeting_of

if TYPE_CHECKING:
    from server.ads.runtime import AdsRuntime

DAY = 86400.0


@functools.lru_cache(maxsize=4)
def _day_name(day_number: int) -> str:
    """ISO date of the ``day_number``-th UTC day since the epoch (a pure function: memoised, not state)."""
    return datetime.fromtimestamp(day_number * DAY, UTC).date().isoformat()


def utc_day(now: float) -> str:
    return _day_name(int(now // DAY))


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
        # Even pacing: by now at most this share of each day's budget (``pace_ceiling``, never below one impression).
        pace_share = min(1.0, elapsed + settings.pacing_lead)
        target = targeting_of(headers.get("user-agent", ""), headers.get("accept-language", ""))
        offer = snap.offer(target, now, settings.max_candidates)
        if viewer_id in offer.blocked:  # a sponsor among them blocks the viewer or is blocked: this page's own
            candidates = eligible(snap, target, now, settings.max_candidates, viewer_id)
        else:
            candidates = offer.candidates
        if not candidates:
            return []
        picked = await self.rt.hot.select(viewer_id, now, day, want, candidates, pace_share)
        slots: list[AdSlot] = []
        key = self.rt.token_key
        fresh = tokens.nonces(2 * len(picked))
        for n, campaign_id in enumerate(picked):
            chosen = snap.by_id.get(campaign_id)
            if chosen is None:
                continue
            c = chosen
            impression = tokens.sign(key, tokens.IMPRESSION, c.id, viewer_id, c.bid_cpm, now, fresh[2 * n])
            click = tokens.sign(key, tokens.CLICK, c.id, viewer_id, c.bid_cpm, now, fresh[2 * n + 1])
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
