"""A feed page's ad candidates, made once per snapshot: the same as filtering each page, until something changes."""

from __future__ import annotations

from server.ads.schemas import Sponsor
from server.ads.snapshot import ActiveCampaign, Snapshot, eligible

SPONSOR = Sponsor(
    id="1",
    username="acme",
    display_name="Acme",
    avatar_url=None,
    followers_count=0,
    following_count=0,
    posts_count=0,
    is_private=False,
)
WEB_EN = ("web", frozenset({"en"}))


def campaign(
    i: int, advertiser: int = 1, start: float = 0.0, end: float = float("inf"), **over: object
) -> ActiveCampaign:
    fields: dict[str, object] = dict(
        id=i, advertiser=advertiser, currency="usd", bid_cpm=5_000 - i, budget_milli=10**9, daily_milli=-1,
        pace_daily_milli=24_000, start=start, end=end, hashtags=(), languages=frozenset(), platforms=frozenset(),
        cap_impressions=1, cap_seconds=3600, headline=f"ad {i}", text="", media=None,
        click_url="https://shop.example", sponsor=SPONSOR,
    )  # fmt: skip
    fields.update(over)
    return ActiveCampaign(**fields)  # type: ignore[arg-type]


def ids(snap: Snapshot, now: float, limit: int = 3) -> list[int]:
    return [c.campaign_id for c in snap.offer(WEB_EN, now, limit).candidates]


def test_offer_follows_schedules_targeting_and_the_candidate_limit() -> None:
    snap = Snapshot.build(
        [
            campaign(1, start=100.0),  # not started before 100
            campaign(2, end=200.0),  # ended at 200
            campaign(3, languages=frozenset({"fr"})),
            campaign(4, platforms=frozenset({"ios"})),
            campaign(5),
            campaign(6),
            campaign(7),
        ],
        {},
        0.0,
    )
    assert ids(snap, 50.0) == [2, 5, 6]
    assert snap.offer(WEB_EN, 50.0, 3) is snap.offer(WEB_EN, 60.0, 3)  # made once
    assert ids(snap, 150.0) == [1, 2, 5]  # campaign 1 started at 100
    assert ids(snap, 250.0) == [1, 5, 6]  # campaign 2 ended at 200
    assert ids(snap, 250.0, limit=10) == [1, 5, 6, 7]
    candidate = snap.offer(WEB_EN, 250.0, 3).candidates[0]
    assert (candidate.price_milli, candidate.pace_milli) == (4_999, 24_000)  # paced per day, by the page's share


def test_offer_leaves_out_sponsors_blocked_either_way_per_viewer() -> None:
    snap = Snapshot.build([campaign(1, advertiser=10), campaign(2, advertiser=20), campaign(3, advertiser=30)], {}, 0.0)
    offer = snap.offer(WEB_EN, 1.0, 2)
    assert [c.campaign_id for c in offer.candidates] == [1, 2] and 99 not in offer.blocked
    snap.add_block(99, 10)  # the viewer 99 blocks sponsor 10
    offer = snap.offer(WEB_EN, 1.0, 2)
    assert 99 in offer.blocked  # so viewer 99 gets a list of its own, without sponsor 10
    assert [c.campaign_id for c in eligible(snap, WEB_EN, 1.0, 2, 99)] == [2, 3]
    assert [c.campaign_id for c in offer.candidates] == [1, 2]  # everyone else's is unchanged
