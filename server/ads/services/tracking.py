"""Impressions and clicks: signed single-use tokens, counted once, charged atomically against the budget."""

from __future__ import annotations

import time

from models.ads import AdCampaign
from server.ads import tokens
from server.ads.delivery import utc_day
from server.ads.hot import Charge
from server.ads.runtime import AdsRuntime
from server.errors import DomainError, NotFound


class InvalidAdToken(DomainError):
    status, code, title = 400, "invalid_token", "Invalid ad token"


class TrackingService:
    def __init__(self, runtime: AdsRuntime) -> None:
        self.rt = runtime

    async def impression(self, viewer_id: int, token: str) -> bool:
        """Count a viewable impression (MRC: >= 50 % of the ad visible for >= 1 s); whether it was charged.

        A forged or altered token, one served to someone else, or an expired one -> 400. A token counts
        once: a replay is accepted and changes nothing.
        """
        now = time.time()
        try:
            claims = tokens.verify(self.rt.token_key, token, tokens.IMPRESSION)
        except tokens.TokenInvalid as exc:
            raise InvalidAdToken("this impression token is not valid") from exc
        if claims.user_id != viewer_id:
            raise InvalidAdToken("this impression token was served to someone else")
        ttl = self.rt.settings.impression_ttl_seconds
        if claims.expired(now, ttl):
            raise InvalidAdToken("this impression token has expired")
        campaign = self.rt.snapshot.by_id.get(claims.campaign_id)
        if campaign is None:
            return False  # paused or ended since it was served: shown for free, never charged
        result = await self.rt.hot.charge(
            claims.nonce,
            ttl,
            campaign.id,
            claims.price_milli,  # the bid it won its slot with
            campaign.budget_milli,
            campaign.daily_milli,
            utc_day(now),
        )
        return result == Charge.COUNTED

    async def click(self, token: str) -> str:
        """Count a click once (while the link is fresh) and answer where to redirect."""
        now = time.time()
        try:
            claims = tokens.verify(self.rt.token_key, token, tokens.CLICK)
        except tokens.TokenInvalid as exc:
            raise InvalidAdToken("this ad link is not valid") from exc
        campaign = self.rt.snapshot.by_id.get(claims.campaign_id)
        if campaign is not None:
            url = campaign.click_url
        else:
            rows = await AdCampaign.select(AdCampaign.click_url).where(AdCampaign.id == claims.campaign_id)
            if not rows:
                raise NotFound("this ad no longer exists")
            url = rows[0]["click_url"]
        ttl = self.rt.settings.click_ttl_seconds
        if not claims.expired(now, ttl):
            await self.rt.hot.click(claims.nonce, ttl, claims.campaign_id, utc_day(now))
        return str(url)
