"""The hot state's guarantees, the same for Redis and for the in-process implementation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.ads.hot import Candidate, Charge, HotState, MemoryHotState, RedisHotState
from server.redis_lane import RedisLane

DAY = "2030-01-01"


@pytest.fixture(params=["memory", "redis", "redis-lane"])
async def hot(request: Any, redis_client: Any) -> AsyncIterator[HotState]:
    """In memory; in Redis through redis-py's script call; in Redis on a shared lane (as app processes do)."""
    if request.param == "memory":
        yield MemoryHotState()
    elif request.param == "redis":
        yield RedisHotState(redis_client, prefix="adstest:")
    else:
        lane = RedisLane(redis_client.connection_pool)
        yield RedisHotState(redis_client, prefix="adstest:", lane=lane)
        await lane.close()


def cand(
    cid: int, price: int = 1000, budget: int = 10**9, pace: int = -1, cap: int = 100, tags: tuple[str, ...] = ()
) -> Candidate:
    return Candidate(cid, price, budget, pace, cap, 3600, tags)


async def test_concurrent_charges_never_pass_the_budget(hot: HotState) -> None:
    results = await asyncio.gather(*(hot.charge(f"n{i}", 60, 7, 1000, 10_000, -1, DAY) for i in range(50)))
    assert results.count(Charge.COUNTED) == 10 and results.count(Charge.OVER_BUDGET) == 40
    assert await hot.charge("n0", 60, 7, 1000, 10_000, -1, DAY) == Charge.REPLAYED
    batches = await hot.take_batches("b1")
    assert batches == [("b1", {f"7:{DAY}:i": 10, f"7:{DAY}:s": 10_000})]


async def test_daily_budget_caps_a_day_and_the_next_day_starts_fresh(hot: HotState) -> None:
    got = [await hot.charge(f"d{i}", 60, 8, 1000, 10**9, 3000, DAY) for i in range(5)]
    assert got == [1, 1, 1, 2, 2]
    assert await hot.charge("next", 60, 8, 1000, 10**9, 3000, "2030-01-02") == Charge.COUNTED


async def test_select_ranks_in_order_and_checks_budget_pace_interest_and_cap(hot: HotState) -> None:
    now = time.time()
    await hot.seed([(1, 10_000, DAY, 0), (2, 0, DAY, 5_000)])
    offered = [
        cand(1, budget=10_000),  # budget spent (seeded from PostgreSQL)
        cand(2, pace=5_000),  # spent today what the even pace allows by now
        cand(3, tags=("cats",)),  # the user has no interest in cats yet
        cand(4, cap=1),
        cand(5),
    ]
    assert await hot.select(42, now, DAY, 3, offered) == [4, 5]
    assert await hot.select(42, now, DAY, 3, offered) == [5]  # campaign 4's cap of one is used
    await hot.add_interests(42, ["cats", "dogs"], now)
    assert await hot.select(42, now, DAY, 1, offered) == [3]
    assert await hot.select(42, now + 3600, DAY, 3, offered) == [3, 4, 5]  # the cap's window has passed
    assert await hot.select(43, now, DAY, 3, offered) == [4, 5]


async def test_pace_share_spreads_the_daily_amount_and_allows_at_least_one_impression(hot: HotState) -> None:
    now = time.time()
    # Spent today: 11,000 and 11,001 of a 24,000 day; 12,000 may be spent by half the day.
    await hot.seed([(1, 0, DAY, 11_000), (2, 0, DAY, 11_001), (3, 0, DAY, 0), (4, 0, DAY, 0)])
    offered = [cand(1, pace=24_000), cand(2, pace=24_000), cand(3, pace=100), cand(4, pace=-1)]
    assert await hot.select(42, now, DAY, 4, offered, 0.5) == [1, 3, 4]  # 3: one impression even past its share
    assert await hot.select(43, now, DAY, 4, offered, 1.0) == [1, 2, 3, 4]
    assert await hot.select(44, now, DAY, 4, offered, 0.0) == [3, 4]  # the day's first impression only
    # Without a share each pace is already the ceiling (100 < one impression's 1,000: nothing for campaign 3).
    assert await hot.select(45, now, DAY, 4, offered) == [1, 2, 4]


async def test_selection_on_the_lane_survives_redis_losing_its_scripts(redis_client: Any) -> None:
    lane = RedisLane(redis_client.connection_pool)
    hot = RedisHotState(redis_client, prefix="adsflush:", lane=lane)
    try:
        now = time.time()
        assert await hot.select(1, now, DAY, 2, [cand(1), cand(2, cap=1)]) == [1, 2]
        await redis_client.script_flush()
        assert await hot.select(1, now, DAY, 2, [cand(1), cand(2, cap=1)], 0.5) == [1]  # 2's cap was used
        assert await redis_client.hget("adsflush:u:1", "1") == b"2"
    finally:
        await lane.close()


async def test_selection_still_works_when_the_lane_lost_its_connection(redis_client: Any) -> None:
    lane = RedisLane(redis_client.connection_pool)
    hot = RedisHotState(redis_client, prefix="adslost:", lane=lane)
    now = time.time()
    assert await hot.select(1, now, DAY, 1, [cand(1, cap=2)]) == [1]
    await lane.close()  # every later call on the lane fails with a connection error
    assert await hot.select(1, now, DAY, 1, [cand(1, cap=2)]) == [1]
    assert await hot.select(1, now, DAY, 1, [cand(1, cap=2)]) == []  # the cap of two, counted across both paths


async def test_concurrent_pages_never_share_a_users_last_cap_slot(hot: HotState) -> None:
    now = time.time()
    got = await asyncio.gather(*(hot.select(9, now, DAY, 1, [cand(1, cap=3)]) for _ in range(20)))
    assert sum(len(g) for g in got) == 3


async def test_batches_stay_until_finished(hot: HotState) -> None:
    assert await hot.take_batches("empty") == []
    assert await hot.click("c1", 60, 5, DAY) is True
    assert await hot.click("c1", 60, 5, DAY) is False
    first = await hot.take_batches("b1")
    assert first == [("b1", {f"5:{DAY}:c": 1})]
    await hot.click("c2", 60, 5, DAY)
    both = await hot.take_batches("b2")  # b1 was never finished: it is handed out again
    assert [k for k, _ in both] == ["b1", "b2"]
    await hot.finish_batch("b1")
    await hot.finish_batch("b2")
    assert await hot.take_batches("b3") == []


async def test_seeding_is_sent_once_and_again_after_redis_lost_its_data(redis_client: Any) -> None:
    hot = RedisHotState(redis_client, prefix="adsseed:")
    await hot.seed([(1, 5_000, DAY, 1_000)])
    assert await redis_client.hget("adsseed:c:1", "spent") == b"5000"
    await redis_client.hset("adsseed:c:1", "spent", 6_000)  # charged since (the hot state is ahead of PostgreSQL)
    await hot.seed([(1, 5_000, DAY, 1_000), (2, 0, DAY, 0)])  # the next snapshot reload: only campaign 2 is new
    assert await redis_client.hget("adsseed:c:1", "spent") == b"6000"
    assert await redis_client.hget("adsseed:c:2", "spent") == b"0"
    for key in await redis_client.keys("adsseed:*"):  # Redis restarted empty
        await redis_client.delete(key)
    await hot.seed([(1, 6_000, DAY, 2_000), (2, 0, DAY, 0)])
    assert await redis_client.hget("adsseed:c:1", "spent") == b"6000"
    assert await redis_client.hget("adsseed:c:1", f"d:{DAY}") == b"2000"
    assert await redis_client.hget("adsseed:c:2", "spent") == b"0"
    await hot.seed([(1, 6_000, "2030-01-02", 0)])  # a new day's field is seeded once too
    assert await redis_client.hget("adsseed:c:1", "d:2030-01-02") == b"0"


async def test_delivery_reaches_lower_bids_once_the_top_campaigns_are_capped(hot: HotState) -> None:
    """The top campaigns capped for this viewer: the page still gets the next ones, in bid order."""
    from dataclasses import dataclass

    from server.ads.config import AdsSettings
    from server.ads.delivery import AdDelivery
    from server.ads.schemas import Sponsor
    from server.ads.snapshot import ActiveCampaign, Snapshot
    from server.ads.tokens import derive_key

    sponsor = Sponsor(
        id="1",
        username="acme",
        display_name="Acme",
        avatar_url=None,
        followers_count=0,
        following_count=0,
        posts_count=0,
        is_private=False,
    )

    def campaign(i: int) -> ActiveCampaign:
        return ActiveCampaign(
            id=100 + i, advertiser=1, currency="usd", bid_cpm=5_000 - i, budget_milli=10**9, daily_milli=-1,
            pace_daily_milli=-1, start=0.0, end=float("inf"), hashtags=(), languages=frozenset(),
            platforms=frozenset(), cap_impressions=1, cap_seconds=3600, headline=f"ad {i}", text="", media=None,
            click_url="https://shop.example", sponsor=sponsor,
        )  # fmt: skip

    campaigns = [campaign(i) for i in range(24)]

    @dataclass
    class Runtime:  # what AdDelivery reads of the ads runtime
        settings: AdsSettings
        snapshot: Snapshot
        hot: HotState
        token_key: bytes

    delivery = AdDelivery(Runtime(AdsSettings(), Snapshot.build(campaigns, {}, 0.0), hot, derive_key("k" * 32)))  # type: ignore[arg-type]
    served = []
    for _ in range(6):  # four ads per 20-post page, each campaign once per hour for this viewer
        served += [int(slot.ad.campaign_id) for slot in await delivery.place(7, 20, {})]
    assert served == [100 + i for i in range(24)]
    assert await delivery.place(7, 20, {}) == []  # every campaign's cap is used
