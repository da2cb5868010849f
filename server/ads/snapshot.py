"""The in-process snapshot of active campaigns: what a feed page selects from, with no SQL.

Rebuilt from PostgreSQL by the ads runtime on a timer and at once after a change made in this process.
It holds everything selection needs that does not depend on the viewer: the creative, the schedule,
the targeting and the users each sponsor blocks or is blocked by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from server.ads.schemas import Media, Sponsor

PLATFORMS = ("ios", "android", "web", "other")


@dataclass(frozen=True, slots=True)
class ActiveCampaign:
    id: int
    advertiser: int
    currency: str
    bid_cpm: int
    budget_milli: int
    daily_milli: int  # -1: no daily budget
    pace_daily_milli: int  # what to spread evenly over each UTC day; -1: unpaced
    start: float
    end: float  # float("inf") without an end
    hashtags: tuple[str, ...]
    languages: frozenset[str]
    platforms: frozenset[str]
    cap_impressions: int
    cap_seconds: int
    headline: str
    text: str
    media: Media | None
    click_url: str
    sponsor: Sponsor


@dataclass(slots=True)
class Snapshot:
    """Active campaigns by id and, per platform, in bid order (highest first)."""

    by_id: dict[int, ActiveCampaign] = field(default_factory=dict)
    ranked: dict[str, list[ActiveCampaign]] = field(default_factory=dict)
    blocks: dict[int, set[int]] = field(default_factory=dict)  # sponsor -> users blocked either way
    loaded_at: float = 0.0

    @classmethod
    def build(cls, campaigns: list[ActiveCampaign], blocks: dict[int, set[int]], now: float) -> Snapshot:
        ordered = sorted(campaigns, key=lambda c: (-c.bid_cpm, c.id))
        ranked = {p: [c for c in ordered if not c.platforms or p in c.platforms] for p in PLATFORMS}
        return cls({c.id: c for c in ordered}, ranked, blocks, now)

    def add_block(self, a: int, b: int) -> None:
        """``a`` and ``b`` no longer see each other's ads (applied before the next reload)."""
        for sponsor, other in ((a, b), (b, a)):
            if sponsor in self.blocks or any(c.advertiser == sponsor for c in self.by_id.values()):
                self.blocks.setdefault(sponsor, set()).add(other)


def epoch(ts: datetime | None) -> float:
    return float("inf") if ts is None else ts.timestamp()
