"""Feeds: hybrid home (push + celebrity pull), cold rebuilds, cursors, blocks/mutes/deletes, trending."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from tests.integration.social.helpers import Actor, ids, users

API = "/api/v1"


def _runtime(app):
    return app.state.social


async def _pages(actor: Actor, path: str, limit: int) -> list[str]:
    out, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        res = await actor.get(path, params=params)
        assert res.status_code == 200, res.text
        out += ids(res.json()["items"])
        cursor = res.json()["next_cursor"]
        if cursor is None:
            return out


@pytest.fixture(params=["redis", "memory"])
async def store_kind(request, app, client):
    """Run a test against the Redis timeline store and the in-process one."""
    from server.social.store import MemoryStore

    rt = _runtime(app)
    rt.settings = msgspec.structs.replace(rt.settings, celebrity_threshold=3)
    if request.param == "memory":
        rt.store = MemoryStore(cap=rt.settings.timeline_cap, ttl=3600, half_life=rt.store.half_life)
    return request.param


async def test_celebrity_pull_and_push_merge_into_one_ordered_feed(app, client, store_kind, redis_client):
    viewer, star, friend, f2, f3 = await users(client, "viewer", "star", "friend", "f2", "f3")
    for fan in (viewer, f2, f3):
        await fan.follow(star)  # 3 followers: at the (lowered) celebrity threshold
    await viewer.follow(friend)
    assert (await viewer.feed(f"{API}/feeds/home")) == []  # builds viewer's timeline
    expected = []
    for i in range(3):
        expected.append((await friend.publish(f"friend {i}"))["id"])
        expected.append((await star.publish(f"star {i}"))["id"])
    mine = (await viewer.publish("my own"))["id"]
    expected = [mine, *reversed(expected)]
    assert await _pages(viewer, f"{API}/feeds/home", 2) == expected
    assert ids(await viewer.feed(f"{API}/feeds/home", limit=20)) == expected
    if store_kind == "redis":
        members = {m.decode() for m in await redis_client.zrange(f"social:tl:home:{viewer.id}", 0, -1)}
        # The ordinary author's posts were pushed; the celebrity's were not (pulled at read).
        star_ids = set(expected[1::2])
        assert star_ids.isdisjoint(members) and set(expected) - star_ids <= members


async def test_cold_timeline_rebuilds_from_postgres(app, client, store_kind):
    viewer, author = await users(client, "viewer", "author")
    await viewer.follow(author)
    posts = [(await author.publish(f"p{i}"))["id"] for i in range(4)]
    store = _runtime(app).store
    # Never read before: the first page comes from PostgreSQL while the timeline warms in the background.
    assert ids(await viewer.feed(f"{API}/feeds/home")) == posts[::-1]
    for _ in range(200):
        if await store.timeline_ids(int(viewer.id), None, 10) is not None:
            break
        await asyncio.sleep(0.02)
    assert await store.timeline_ids(int(viewer.id), None, 10) == ([int(p) for p in posts[::-1]], True)
    await store.drop_timeline(int(viewer.id))  # evicted
    assert ids(await viewer.feed(f"{API}/feeds/home")) == posts[::-1]
    newer = (await author.publish("after rebuild"))["id"]  # pushed into the warm timeline
    assert ids(await viewer.feed(f"{API}/feeds/home"))[0] == newer


async def test_home_beyond_the_capped_window_reads_postgres(app, client, store_kind):
    viewer, author = await users(client, "viewer", "author")
    _runtime(app).store.cap = 3
    await viewer.follow(author)
    await viewer.feed(f"{API}/feeds/home")
    posts = [(await author.publish(f"p{i}"))["id"] for i in range(7)]
    assert await _pages(viewer, f"{API}/feeds/home", 2) == posts[::-1]


async def test_cursor_is_stable_while_new_posts_arrive(client):
    viewer, author = await users(client, "viewer", "author")
    await viewer.follow(author)
    old = [(await author.publish(f"old {i}"))["id"] for i in range(5)]
    first = (await viewer.get(f"{API}/feeds/home", params={"limit": 2})).json()
    pub_first = (await viewer.get(f"{API}/feeds/public", params={"limit": 2})).json()
    new = [(await author.publish(f"new {i}"))["id"] for i in range(3)]
    second = (await viewer.get(f"{API}/feeds/home", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert ids(first["items"]) == old[:-3:-1] and ids(second["items"]) == [old[2], old[1]]
    pub_second = await viewer.get(f"{API}/feeds/public", params={"limit": 10, "cursor": pub_first["next_cursor"]})
    assert ids(pub_second.json()["items"]) == old[2::-1]
    assert ids(await viewer.feed(f"{API}/feeds/home", limit=3)) == new[::-1]
    tampered = first["next_cursor"][:-2] + ("AA" if not first["next_cursor"].endswith("AA") else "BB")
    assert (await viewer.get(f"{API}/feeds/home", params={"cursor": tampered})).status_code == 422
    assert (await viewer.get(f"{API}/feeds/public", params={"cursor": first["next_cursor"]})).status_code == 422
    for bad in ({"limit": 0}, {"limit": 101}):
        for path in ("feeds/home", "feeds/public", "feeds/trending", "hashtags/x/posts", "users/author/posts"):
            assert (await viewer.get(f"{API}/{path}", params=bad)).status_code == 422


async def test_home_requires_auth_and_position_slot(client):
    assert (await client.get(f"{API}/feeds/home")).status_code == 401
    (viewer,) = await users(client, "viewer")
    body = (await viewer.get(f"{API}/feeds/home")).json()
    assert body["items"] == [] and body["next_cursor"] is None and "position" in body


async def test_public_and_hashtag_feeds(client):
    alice, bob = await users(client, "alice", "bob")
    a = await alice.publish("#Python rocks")
    await alice.publish("friends #python", "followers")
    b = await bob.publish("#python #rust")
    await bob.publish("no tags")
    tag = (await client.get(f"{API}/hashtags/PYTHON/posts")).json()["items"]
    assert ids(tag) == [b["id"], a["id"]]
    assert ids((await client.get(f"{API}/hashtags/%23rust/posts")).json()["items"]) == [b["id"]]
    assert (await client.get(f"{API}/hashtags/no-such!/posts")).status_code == 422
    pub = (await client.get(f"{API}/feeds/public")).json()["items"]
    assert len(pub) == 3 and all(p["visibility"] == "public" for p in pub)


async def test_blocks_mutes_and_deletes_apply_to_every_feed(client):
    viewer, noisy, rude, other = await users(client, "viewer", "noisy", "rude", "other")
    for author in (noisy, rude, other):
        await viewer.follow(author)
    n = await noisy.publish("noisy #t")
    r = await rude.publish("rude #t")
    o = await other.publish("other #t")
    gone = await other.publish("soon gone #t")
    for p in (n, r, o, gone):
        await viewer.post(f"{API}/posts/{p['id']}/like")
    await viewer.post(f"{API}/users/noisy/mute")
    await rude.post(f"{API}/users/viewer/block")
    await other.delete(f"{API}/posts/{gone['id']}")
    for path in ("feeds/home", "feeds/public", "hashtags/t/posts", "feeds/trending"):
        assert ids(await viewer.feed(f"{API}/{path}")) == [o["id"]], path
    assert (await viewer.get(f"{API}/users/rude/posts")).status_code == 404
    # The muted author's own page still shows them (mute hides from feeds only) — public user feed is a profile.
    assert ids(await viewer.feed(f"{API}/users/other/posts")) == [o["id"]]
    # Block removed the follow: rude's new posts never reach viewer's home.
    await rude.publish("after block")
    assert ids(await viewer.feed(f"{API}/feeds/home")) == [o["id"]]


async def test_trending_ranks_by_engagement_and_pages_stably(client):
    author, *fans = await users(client, "author", "f0", "f1", "f2", "f3")
    posts = [await author.publish(f"post {i} #trend{i % 2}") for i in range(4)]
    likes = {0: 1, 1: 4, 2: 0, 3: 3}
    for i, count in likes.items():
        for fan in fans[:count]:
            await fan.post(f"{API}/posts/{posts[i]['id']}/like")
    await fans[0].post(f"{API}/posts/{posts[2]['id']}/comments", json={"text": "c"})  # a comment weighs 2
    order = [posts[1]["id"], posts[3]["id"], posts[2]["id"], posts[0]["id"]]
    first = (await client.get(f"{API}/feeds/trending", params={"limit": 2})).json()
    await fans[3].post(f"{API}/posts/{posts[0]['id']}/like")  # scores move; the paged snapshot does not
    rest = (await client.get(f"{API}/feeds/trending", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert ids(first["items"]) + ids(rest["items"]) == order and rest["next_cursor"] is None
    await author.publish("#hushhush", "followers")
    tags = (await client.get(f"{API}/hashtags/trending")).json()["items"]
    assert [t["tag"] for t in tags] == ["trend1", "trend0"]
    assert (await client.get(f"{API}/feeds/trending", params={"cursor": "bogus"})).status_code == 422


async def test_pulled_posts_are_read_once_per_author_and_page_past_their_window(app, client):
    """The pull side's shared cache: one read per author for every reader, SQL below its window, and a
    post by the author on this process seen at once (another process's within the TTL)."""
    from server.social.pulled import PulledPosts
    from server.social.queries.feeds import authors_post_ids

    star, other = await users(client, "star", "other")
    posts = [int((await star.publish(f"s{i}"))["id"]) for i in range(5)][::-1]  # newest first
    pulled = PulledPosts(depth=3, ttl=3600)
    top = 2**63 - 1
    assert await pulled.newest([int(star.id), int(other.id)], top, 2) == posts[:2]
    # Below the kept window (3 ids) the author's older posts come from the index, as without the cache.
    assert await pulled.newest([int(star.id)], posts[2], 2) == posts[3:5]
    assert await pulled.newest([int(star.id)], posts[1], 5) == await authors_post_ids([int(star.id)], posts[1], 5)
    rt = _runtime(app)
    rt.pulled = PulledPosts(ttl=3600)  # no expiry within the test: only the post itself can drop the entry
    assert await rt.pulled.newest([int(star.id)], top, 1) == posts[:1]
    newer = int((await star.publish("newer"))["id"])  # through the app: its runtime forgets, this cache does not
    assert await pulled.newest([int(star.id)], top, 1) == posts[:1]
    pulled.forget(int(star.id))
    assert await pulled.newest([int(star.id)], top, 1) == [newer]
    # The app's own cache was dropped by the post: a follower's next page has it.
    assert await rt.pulled.newest([int(star.id)], top, 1) == [newer]
