"""The in-process snapshot of active campaigns: what a feed page selects from, with no SQL.

Rebuilt from PostgreSQL by the ads runtime on a timer and at once after a change made in this process.
It holds everything selection needs that does not depend on the viewer: the creative, the schedule,
the targeting and the users each sponsor blocks or is blocked by.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from server.ads.hot.base import Candidate
from server.ads.schemas import Media, Sponsor
from server.ads.targeting import Target

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
    candidate: Candidate = field(init=False, repr=False, compare=False)
    """This campaign as ``select`` takes it (pace: the daily amount, applied with the page's ``pace_share``)."""

    def __post_init__(self) -> None:
        c = Candidate(
            self.id,
            self.bid_cpm,
            self.budget_milli,
            self.pace_daily_milli,
            self.cap_impressions,
            self.cap_seconds,
            self.hashtags,
        )
        object.__setattr__(self, "candidate", c)  # frozen: set once here


@dataclass(frozen=True, slots=True)
class Offer:
    """The candidates a feed page of one platform and set of languages offers to the hot state's ``select``.

    The first ``max_candidates`` campaigns in bid order that are in schedule and match the platform and
    languages, as ``Candidate``s whose pace is the daily amount (``select``'s ``pace_share`` applies it). The
    same for every viewer but those a sponsor among them blocks or is blocked by (``blocked``: they get their
    own list, ``eligible``), until ``valid_until``, the next start or end of a campaign of the platform.
    """

    candidates: list[Candidate]
    blocked: frozenset[int]
    built_at: float
    valid_until: float


@dataclass(slots=True)
class Snapshot:
    """Active campaigns by id and, per platform, in bid order (highest first)."""

    by_id: dict[int, ActiveCampaign] = field(default_factory=dict)
    ranked: dict[str, list[ActiveCampaign]] = field(default_factory=dict)
    blocks: dict[int, set[int]] = field(default_factory=dict)  # sponsor -> users blocked either way
    loaded_at: float = 0.0
    # Per (platform, languages) and candidate count: what a page offers, made once per snapshot and schedule
    # change instead of per request (filtering, building and encoding ~32 candidates was most of an ad slot).
    offers: dict[tuple[Target, int], Offer] = field(default_factory=dict)

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
        self.offers.clear()  # their ``blocked`` sets were taken from the blocks before this one

    def offer(self, target: Target, now: float, max_candidates: int) -> Offer:
        """What a page for ``target`` offers at ``now`` (see ``Offer``), from the cache while it holds."""
        key = (target, max_candidates)
        got = self.offers.get(key)
        if got is not None and got.built_at <= now < got.valid_until:
            return got
        if len(self.offers) >= 1024:  # bounded: languages come in many combinations
            self.offers.clear()
        candidates = eligible(self, target, now, max_candidates, None)
        blocked: set[int] = set()
        for sponsor in {c.advertiser for c in (self.by_id[x.campaign_id] for x in candidates)}:
            blocked |= self.blocks.get(sponsor, set())
        valid_until = math.inf
        for c in self.ranked.get(target[0], ()):
            if c.start > now:
                valid_until = min(valid_until, c.start)
            elif c.end > now:
                valid_until = min(valid_until, c.end)
        got = self.offers[key] = Offer(candidates, frozenset(blocked), now, valid_until)
        return got


def eligible(snap: Snapshot, target: Target, now: float, limit: int, viewer_id: int | None) -> list[Candidate]:
    """The first ``limit`` campaigns for ``target`` in bid order that are in schedule, match its languages and
    (with a ``viewer_id``) neither block nor are blocked by the viewer, as ``Candidate``s paced per day."""
    platform, langs = target
    out: list[Candidate] = []
    for c in snap.ranked.get(platform, ()):
        if not (c.start <= now < c.end):
            continue
        if c.languages and c.languages.isdisjoint(langs):
            continue
        if viewer_id is not None:
            blocked = snap.blocks.get(c.advertiser)
            if blocked is not None and viewer_id in blocked:
                continue
        out.append(c.candidate)
        if len(out) >= limit:
            break
    return out


def epoch(ts: datetime | None) -> float:
    return float("inf") if ts is None else ts.timestamp()
