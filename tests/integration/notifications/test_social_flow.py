"""Notifications from the social domain's real endpoints: likes, comments, follows, mentions, blocks and mutes."""

from __future__ import annotations

from server import events
from tests.integration.notifications.helpers import fire, user


async def _types(client, headers):
    return [n["type"] for n in (await client.get("/api/v1/notifications", headers=headers)).json()["items"]]


async def test_like_comment_follow_mention_through_http(client):
    _, alice_h = await user(client, "alice")
    _, bob_h = await user(client, "bob")
    _, carol_h = await user(client, "carol")
    res = await client.post("/api/v1/posts", json={"text": "hello @carol", "visibility": "public"}, headers=alice_h)
    assert res.status_code == 201, res.text
    post = res.json()
    like = f"/api/v1/posts/{post['id']}/like"
    for method in ("post", "delete", "post"):  # like, unlike, like again: one notification
        assert (await getattr(client, method)(like, headers=bob_h)).status_code < 300
    res = await client.post(f"/api/v1/posts/{post['id']}/comments", json={"text": "nice"}, headers=bob_h)
    assert res.status_code == 201, res.text
    assert (await client.post("/api/v1/users/alice/follow", headers=bob_h)).status_code < 300
    assert (await client.post(like, headers=alice_h)).status_code < 300  # her own like: nothing

    assert await _types(client, alice_h) == ["follow", "comment", "like"]
    [like_n] = [
        n for n in (await client.get("/api/v1/notifications", headers=alice_h)).json()["items"] if n["type"] == "like"
    ]
    assert like_n["actor"]["username"] == "bob" and like_n["subject"] == {"type": "post", "id": post["id"]}
    assert await _types(client, carol_h) == ["mention"]
    assert (await client.get("/api/v1/notifications/unread-count", headers=alice_h)).json() == {"count": 3}


async def test_mutes_and_blocks_silence_the_actor(client):
    alice, alice_h = await user(client, "alice")
    carol, _ = await user(client, "carol")
    dave, dave_h = await user(client, "dave")
    assert (await client.post("/api/v1/users/carol/mute", headers=alice_h)).status_code < 300
    assert (await client.post("/api/v1/users/alice/block", headers=dave_h)).status_code < 300
    # Whatever social itself refuses, an event from a muted or blocking/blocked user makes nothing.
    await fire(client, events.Liked(actor_id=int(carol), post_id=1, post_author_id=int(alice)))
    await fire(client, events.Followed(actor_id=int(dave), target_id=int(alice)))
    await fire(client, events.Liked(actor_id=int(alice), post_id=2, post_author_id=int(dave)))
    assert await _types(client, alice_h) == []
    assert await _types(client, dave_h) == []
    assert (await client.delete("/api/v1/users/carol/mute", headers=alice_h)).status_code < 300
    await fire(client, events.Liked(actor_id=int(carol), post_id=1, post_author_id=int(alice)))
    assert await _types(client, alice_h) == ["like"]


async def test_followers_only_post_notifies_subscribers_who_follow(client):
    _, alice_h = await user(client, "alice")
    _, bob_h = await user(client, "bob")
    _, carol_h = await user(client, "carol")
    assert (await client.post("/api/v1/users/alice/follow", headers=bob_h)).status_code < 300
    for h in (bob_h, carol_h):
        assert (await client.post("/api/v1/notifications/subscriptions/alice", headers=h)).status_code == 201
    res = await client.post("/api/v1/posts", json={"text": "friends only", "visibility": "followers"}, headers=alice_h)
    assert res.status_code == 201, res.text
    assert "new_post" in await _types(client, bob_h)
    assert await _types(client, carol_h) == []


async def test_concurrent_http_likes_make_one_group(client):
    import asyncio

    _, alice_h = await user(client, "alice")
    fans = [(await user(client, f"fan{i}"))[1] for i in range(4)]
    post = (await client.post("/api/v1/posts", json={"text": "hi", "visibility": "public"}, headers=alice_h)).json()
    like = f"/api/v1/posts/{post['id']}/like"
    results = await asyncio.gather(*(client.post(like, headers=h) for h in fans + fans))
    assert all(r.status_code < 300 for r in results), [r.text for r in results]
    groups = (await client.get("/api/v1/notifications/grouped", headers=alice_h)).json()["items"]
    assert [(g["type"], g["actors_count"], g["notifications_count"]) for g in groups] == [("like", 4, 4)]
