"""The social store on a real 3-shard Redis Cluster: timelines spread over the shards, trending in one slot."""

from __future__ import annotations

import time
from typing import Any


async def test_timelines_and_trending_work_across_shards(redis_cluster: Any) -> None:
    from channels.redis_cluster import connect
    from server.social.store import RedisStore

    redis_cluster.flush()
    redis = connect(redis_cluster.url)
    await redis.initialize()
    try:
        store = RedisStore(redis, cap=10, ttl=60, half_life=3600)
        users = list(range(1, 31))
        assert len({redis_cluster.shard_of(store._tl(u)) for u in users}) == 3  # the timelines spread out
        for u in users[:20]:
            await store.build_timeline(u, [5])
        await store.push(users, 7)  # one post to 30 timelines on every shard
        for u in users[:20]:
            assert await store.timeline_ids(u, None, 10) == ([7, 5], True)
        for u in users[20:]:
            assert await store.timeline_ids(u, None, 10) is None  # a cold timeline is not created by a push
        await store.set_celebrities(2, [9, 8], 60)
        # A home page's one read: the timeline and the celebrity list, each on its own shard.
        assert redis_cluster.shard_of(store._tl(2)) != redis_cluster.shard_of(store._celebs(2))
        assert await store.home_read(2, None, 10) == (([7, 5], True), [9, 8])
        assert await store.home_read(3, None, 10) == (([7, 5], True), None)
        await store.set_celebrities(1, [9], 60)
        await store.drop_timeline(1)  # two keys, two slots
        assert await store.timeline_ids(1, None, 10) is None and await store.celebrities(1) is None

        now = time.time()
        await store.trend_add("posts", "11", 1.0, now)
        await store.trend_add("posts", "12", 5.0, now - 86400)  # yesterday's bucket, decayed
        await store.trend_add("posts", "13", 3.0, now)
        snapshot = await store.trend_snapshot("posts", now)  # a union of two buckets, renamed into place
        page = await store.trend_page(snapshot, 0, 10)
        assert [m for m, _ in page] == ["13", "11", "12"]
    finally:
        await redis.aclose()
