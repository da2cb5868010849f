"""Finding 1: anonymous trending reads share one snapshot per time bucket instead of copying per request."""

from __future__ import annotations

from tests.support.accounts import signed_in


async def test_many_first_pages_share_one_snapshot(client, redis_client):
    alice = await signed_in(client, "alice")
    for i in range(3):
        res = await client.post("/api/v1/posts", json={"text": f"#tag{i} post {i}"}, headers=alice["headers"])
        assert res.status_code == 201
        await client.post(f"/api/v1/posts/{res.json()['id']}/like", headers=alice["headers"])
    first = await client.get("/api/v1/feeds/trending", params={"limit": 1})
    for _ in range(30):
        assert (await client.get("/api/v1/feeds/trending", params={"limit": 1})).status_code == 200
        assert (await client.get("/api/v1/hashtags/trending", params={"limit": 1})).status_code == 200
    snapshots = [k async for k in redis_client.scan_iter(match="*trend:snap:*")]
    assert len(snapshots) <= 4, snapshots  # posts and tags, at most across one bucket boundary
    # The shared snapshot still pages: the cursor of the first answer reads on.
    nxt = first.json()["next_cursor"]
    if nxt is not None:
        assert (await client.get("/api/v1/feeds/trending", params={"limit": 1, "cursor": nxt})).status_code == 200


async def test_memory_store_keeps_one_snapshot_per_bucket():
    from server.social.store import MemoryStore

    store = MemoryStore(cap=100, ttl=60, half_life=3600)
    await store.trend_add("posts", "1", 1.0, 1000.0)
    names = {await store.trend_snapshot("posts", 1000.0 + i * 0.1) for i in range(50)}
    assert len(names) == 1
    assert len(store._snaps) == 1
    assert await store.trend_page(names.pop(), 0, 10) is not None
