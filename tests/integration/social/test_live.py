"""Live events through the outbox, domain events for notifications, and the post channel policy."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from tests.integration.social.helpers import users

API = "/api/v1"


_MARK = [0]


async def _outbox(event: str | None = None) -> list[tuple[str, str, Any]]:
    """Outbox rows written since the last ``_clear_outbox`` (the relay owns the table: never delete)."""
    from server import sql

    rows = await sql.fetch("SELECT channel, event, data FROM outbox_events WHERE id > $1 ORDER BY id", _MARK[0])
    out = [(r["channel"], r["event"], msgspec.json.decode(r["data"])) for r in rows]
    return [o for o in out if event is None or o[1] == event]


async def _clear_outbox() -> None:
    from server import sql

    _MARK[0] = int(await sql.fetchval("SELECT coalesce(max(id), 0) FROM outbox_events"))


async def test_post_created_and_deleted_reach_every_channel(client):
    alice, bob, carol = await users(client, "alice", "bob", "carol")
    await bob.follow(alice)
    await carol.follow(alice)
    await carol.post(f"{API}/users/alice/mute")  # a muting follower gets nothing
    await _clear_outbox()
    post = await alice.publish("hello #Live")
    created = await _outbox("post.created")
    channels = {c for c, _, _ in created}
    assert channels == {f"timeline:home:{bob.id}", f"timeline:home:{alice.id}", "timeline:public", "hashtag:live"}
    data = created[0][2]
    assert data["id"] == post["id"] and data["liked_by_me"] is False and data["author"]["username"] == "alice"
    assert data["text"] == "hello #Live" and data["like_count"] == 0
    await _clear_outbox()
    await alice.delete(f"{API}/posts/{post['id']}")
    deleted = await _outbox("post.deleted")
    assert {c for c, _, _ in deleted} == channels | {f"post:{post['id']}"}
    assert all(d == {"id": post["id"]} for _, _, d in deleted)


async def test_followers_only_post_skips_public_channels(client):
    alice, bob = await users(client, "alice", "bob")
    await bob.follow(alice)
    await _clear_outbox()
    await alice.publish("friends #secret", "followers")
    assert {c for c, _, _ in await _outbox()} == {f"timeline:home:{bob.id}", f"timeline:home:{alice.id}"}


async def test_celebrity_posts_go_live_only_to_active_followers(app, client, redis_client):
    star, *fans = await users(client, "star", "fan0", "fan1", "fan2", "fan3")
    rt = app.state.social
    rt.settings = msgspec.structs.replace(rt.settings, celebrity_threshold=2)
    for fan in fans:
        await fan.follow(star)
    # fan2 and fan3 went away: they left the recently-active set.
    await redis_client.zrem("social:active", fans[2].id, fans[3].id)
    await _clear_outbox()
    post = await star.publish("big news")
    homes = {c for c, _, _ in await _outbox("post.created") if c.startswith("timeline:home:")}
    assert homes == {f"timeline:home:{fans[0].id}", f"timeline:home:{fans[1].id}", f"timeline:home:{star.id}"}
    # ...yet every follower has it in their home feed (pulled at read).
    for fan in fans:
        assert [p["id"] for p in await fan.feed(f"{API}/feeds/home")] == [post["id"]]


async def test_post_stats_are_coalesced(app, client):
    alice, *fans = await users(client, "alice", "f0", "f1", "f2", "f3", "f4", "f5")
    rt = app.state.social
    await rt.stop()  # flush by hand, so the test does not depend on the flusher's timing
    pid = (await alice.publish("count me"))["id"]
    await _clear_outbox()
    await asyncio.gather(*(f.post(f"{API}/posts/{pid}/like") for f in fans))
    await fans[0].post(f"{API}/posts/{pid}/comments", json={"text": "hi"})
    assert await rt.flush_stats() == 1
    stats = await _outbox("post.stats")
    assert stats == [(f"post:{pid}", "post.stats", {"id": pid, "like_count": 6, "comment_count": 1})]
    comment = await _outbox("comment.created")
    assert len(comment) == 1 and comment[0][0] == f"post:{pid}" and comment[0][2]["text"] == "hi"
    assert await rt.flush_stats() == 0  # nothing new: nothing sent


async def test_domain_events_for_notifications(client):
    from server import events

    seen: list[events.DomainEvent] = []
    bus: events.EventBus = client.sf_app.state.event_bus

    async def record(event: events.DomainEvent) -> None:
        seen.append(event)

    kinds = (
        events.Followed,
        events.FollowAccepted,
        events.PostPublished,
        events.Liked,
        events.Unliked,
        events.Commented,
    )
    for kind in kinds:
        bus.subscribe(kind, record)
    try:
        alice, bob, carol = await users(client, "alice", "bob", "carol")
        await alice.patch(f"{API}/users/me", json={"is_private": True})
        await bob.follow(alice)
        await alice.post(f"{API}/users/me/follow-requests/bob/accept")
        await alice.follow(carol)
        pid = (await alice.publish("hi @carol"))["id"]
        await bob.post(f"{API}/posts/{pid}/like")
        await alice.post(f"{API}/posts/{pid}/like")  # own like: no event
        await bob.delete(f"{API}/posts/{pid}/like")
        c1 = (await bob.post(f"{API}/posts/{pid}/comments", json={"text": "yo"})).json()
        await alice.post(f"{API}/posts/{pid}/comments", json={"text": "re", "parent_id": c1["id"]})
        cpub = (await carol.publish("carol's"))["id"]
        await bob.post(f"{API}/posts/{cpub}/repost")
    finally:
        for kind in kinds:
            bus.unsubscribe(kind, record)
    ids = {u.username: int(u.id) for u in (alice, bob, carol)}
    names = [type(e).__name__ for e in seen]
    assert names == [
        "Followed",
        "FollowAccepted",
        "Followed",
        "PostPublished",
        "Liked",
        "Unliked",
        "Commented",
        "Commented",
        "PostPublished",
        "PostPublished",
    ]
    assert seen[0] == events.Followed(actor_id=ids["bob"], target_id=ids["alice"], pending=True)
    assert seen[1] == events.FollowAccepted(actor_id=ids["alice"], follower_id=ids["bob"])
    # alice is private and carol does not follow her: carol cannot open the post, so she is not told of it.
    assert seen[3].mentioned_ids == ()  # type: ignore[attr-defined]
    assert seen[3].author_private is True  # type: ignore[attr-defined]
    assert seen[7].parent_author_id == ids["bob"]  # type: ignore[attr-defined]
    assert seen[9].repost_of_author_id == ids["carol"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("visibility", ["public", "followers"])
async def test_can_view_post_policy(client, visibility):
    from server.social.realtime_hooks import post_channel_policy
    from server.social.services.posts import can_view_post

    alice, bob, carol = await users(client, "alice", "bob", "carol")
    await bob.follow(alice)
    pid = int((await alice.publish("x", visibility))["id"])
    assert await can_view_post(int(bob.id), pid) is True
    assert await post_channel_policy(int(bob.id), str(pid)) is True
    for garbage in ("", "abc", "-1", "9" * 25, str(1 << 63)):
        assert await post_channel_policy(int(bob.id), garbage) is False
    assert await can_view_post(int(carol.id), pid) is (visibility == "public")
    await alice.post(f"{API}/users/bob/block")
    assert await can_view_post(int(bob.id), pid) is False
    assert await can_view_post(int(alice.id), pid + 1) is False
