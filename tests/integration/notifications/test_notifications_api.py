"""The notification endpoints of the contract, fed by domain events as the social domain sends them."""

from __future__ import annotations

import asyncio

from server import events
from tests.integration.notifications.helpers import fire, member, outbox, user

POST = 987654321


async def test_like_notifies_author_with_contract_shape_and_live_event(client):
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))

    page = (await client.get("/api/v1/notifications", headers=alice_h)).json()
    assert page["next_cursor"] is None
    [n] = page["items"]
    assert n["type"] == "like" and n["read"] is False and n["subject"] == {"type": "post", "id": str(POST)}
    assert n["actor"]["id"] == bob and n["actor"]["username"] == "bob"
    assert {"followers_count", "following_count", "display_name", "avatar_url"} <= set(n["actor"])
    assert isinstance(n["id"], str) and n["created_at"]
    assert (await client.get("/api/v1/notifications/unread-count", headers=alice_h)).json() == {"count": 1}

    live = await outbox(f"user:{alice}")
    assert [e["event"] for e in live] == ["notification.created"]
    assert live[0]["data"]["id"] == n["id"] and live[0]["data"]["actor"]["username"] == "bob"


async def test_own_actions_never_notify(client):
    alice, alice_h = await user(client, "alice")
    await fire(client, events.Liked(actor_id=int(alice), post_id=POST, post_author_id=int(alice)))
    await fire(client, events.Commented(actor_id=int(alice), post_id=POST, post_author_id=int(alice), comment_id=5))
    await fire(client, events.Followed(actor_id=int(alice), target_id=int(alice)))
    assert (await client.get("/api/v1/notifications/unread-count", headers=alice_h)).json() == {"count": 0}
    assert await outbox(f"user:{alice}") == []


async def test_like_unlike_like_is_one_notification(client):
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    for event in (
        events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)),
        events.Unliked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)),
        events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)),
    ):
        await fire(client, event)
    items = (await client.get("/api/v1/notifications", headers=alice_h)).json()["items"]
    assert len(items) == 1
    assert len(await outbox(f"user:{alice}")) == 1


async def test_concurrent_likes_group_into_one_group_and_dedupe(client):
    alice, alice_h = await user(client, "alice")
    likers = [await member(f"liker{i}") for i in range(5)]
    like = [events.Liked(actor_id=int(uid), post_id=POST, post_author_id=int(alice)) for uid in likers]
    # Every liker twice, all at once: five notifications, one group.
    await asyncio.gather(*(fire(client, e) for e in like + like))
    flat = (await client.get("/api/v1/notifications", headers=alice_h)).json()["items"]
    assert len(flat) == 5 and {n["actor"]["username"] for n in flat} == {f"liker{i}" for i in range(5)}
    groups = (await client.get("/api/v1/notifications/grouped", headers=alice_h)).json()["items"]
    assert len(groups) == 1
    [g] = groups
    assert g["type"] == "like" and g["actors_count"] == 5 and g["notifications_count"] == 5
    assert len(g["sample_actors"]) == 3 and g["subject"] == {"type": "post", "id": str(POST)}
    assert g["most_recent_notification_id"] == flat[0]["id"] and g["read"] is False


async def test_comment_reply_mention_follow_types(client):
    alice, alice_h = await user(client, "alice")
    bob, bob_h = await user(client, "bob")
    carol, carol_h = await user(client, "carol")
    # carol replies to bob's comment on alice's post and mentions alice: alice gets one comment, bob a reply.
    await fire(
        client,
        events.Commented(
            actor_id=int(carol),
            post_id=POST,
            post_author_id=int(alice),
            comment_id=11,
            parent_comment_id=10,
            parent_author_id=int(bob),
            mentioned_ids=(int(alice), int(bob)),
        ),
    )
    await fire(client, events.Followed(actor_id=int(bob), target_id=int(carol), pending=True))
    await fire(client, events.FollowAccepted(actor_id=int(carol), follower_id=int(bob)))
    await fire(client, events.Followed(actor_id=int(carol), target_id=int(alice)))
    await fire(
        client, events.PostPublished(actor_id=int(bob), post_id=77, visibility="public", mentioned_ids=(int(carol),))
    )
    await fire(
        client,
        events.PostPublished(
            actor_id=int(carol), post_id=78, visibility="public", repost_of_id=POST, repost_of_author_id=int(alice)
        ),
    )

    async def types(headers):
        return [n["type"] for n in (await client.get("/api/v1/notifications", headers=headers)).json()["items"]]

    assert await types(alice_h) == ["repost", "follow", "comment"]
    assert await types(bob_h) == ["follow_accepted", "reply"]
    assert await types(carol_h) == ["mention", "follow_request"]
    only = await client.get("/api/v1/notifications?types=follow&types=repost", headers=alice_h)
    assert [n["type"] for n in only.json()["items"]] == ["repost", "follow"]


async def test_new_post_reaches_subscribers_only(client):
    alice, alice_h = await user(client, "alice")
    _bob, bob_h = await user(client, "bob")
    res = await client.post("/api/v1/notifications/subscriptions/ALICE", headers=bob_h)
    assert res.status_code == 201 and res.json()["username"] == "alice"
    assert (await client.post("/api/v1/notifications/subscriptions/alice", headers=bob_h)).status_code == 201
    assert [u["username"] for u in (await client.get("/api/v1/notifications/subscriptions", headers=bob_h)).json()] == [
        "alice"
    ]
    await fire(client, events.PostPublished(actor_id=int(alice), post_id=501, visibility="public"))
    await fire(client, events.PostPublished(actor_id=int(alice), post_id=502, visibility="private"))
    items = (await client.get("/api/v1/notifications", headers=bob_h)).json()["items"]
    assert [(n["type"], n["subject"]["id"]) for n in items] == [("new_post", "501")]
    assert (await client.delete("/api/v1/notifications/subscriptions/alice", headers=bob_h)).status_code == 204
    await fire(client, events.PostPublished(actor_id=int(alice), post_id=503, visibility="public"))
    assert len((await client.get("/api/v1/notifications", headers=bob_h)).json()["items"]) == 1
    assert (await client.post("/api/v1/notifications/subscriptions/alice", headers=alice_h)).status_code == 422
    assert (await client.post("/api/v1/notifications/subscriptions/nobody", headers=bob_h)).status_code == 404


async def test_pagination_and_cursor(client):
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    for post in range(5):
        await fire(client, events.Liked(actor_id=int(bob), post_id=1000 + post, post_author_id=int(alice)))
    first = (await client.get("/api/v1/notifications?limit=2", headers=alice_h)).json()
    second = (await client.get(f"/api/v1/notifications?limit=2&cursor={first['next_cursor']}", headers=alice_h)).json()
    third = (await client.get(f"/api/v1/notifications?limit=2&cursor={second['next_cursor']}", headers=alice_h)).json()
    ids = [n["id"] for page in (first, second, third) for n in page["items"]]
    assert len(ids) == 5 == len(set(ids)) and ids == sorted(ids, key=int, reverse=True)
    assert third["next_cursor"] is None
    g1 = (await client.get("/api/v1/notifications/grouped?limit=3", headers=alice_h)).json()
    g2 = (await client.get(f"/api/v1/notifications/grouped?limit=3&cursor={g1['next_cursor']}", headers=alice_h)).json()
    assert len(g1["items"]) == 3 and len(g2["items"]) == 2 and g2["next_cursor"] is None


async def test_mark_read_by_ids_and_all_emits_read(client):
    alice, alice_h = await user(client, "alice")
    bob, bob_h = await user(client, "bob")
    for post in range(3):
        await fire(client, events.Liked(actor_id=int(bob), post_id=2000 + post, post_author_id=int(alice)))
    await fire(client, events.Followed(actor_id=int(alice), target_id=int(bob)))
    items = (await client.get("/api/v1/notifications", headers=alice_h)).json()["items"]
    bobs = (await client.get("/api/v1/notifications", headers=bob_h)).json()["items"]

    # Another user's id among mine: 404 and nothing changes.
    res = await client.post(
        "/api/v1/notifications/read", json={"ids": [items[0]["id"], bobs[0]["id"]]}, headers=alice_h
    )
    assert res.status_code == 404 and res.json()["code"] == "not_found"
    assert (await client.get("/api/v1/notifications/unread-count", headers=alice_h)).json() == {"count": 3}

    res = await client.post("/api/v1/notifications/read", json={"ids": ["99999999999999999999"]}, headers=alice_h)
    assert res.status_code == 404
    res = await client.post("/api/v1/notifications/read", json={"ids": [items[0]["id"]]}, headers=alice_h)
    assert res.status_code == 204
    assert (await client.get("/api/v1/notifications/unread-count", headers=alice_h)).json() == {"count": 2}
    after = (await client.get("/api/v1/notifications", headers=alice_h)).json()["items"]
    assert [n["read"] for n in after] == [True, False, False]
    assert (await client.post("/api/v1/notifications/read", json={"all": True}, headers=alice_h)).status_code == 204
    assert (await client.get("/api/v1/notifications/unread-count", headers=alice_h)).json() == {"count": 0}
    assert (await client.get("/api/v1/notifications/unread-count", headers=bob_h)).json() == {"count": 1}

    reads = [e["data"] for e in await outbox(f"user:{alice}") if e["event"] == "notification.read"]
    assert reads[0] == {"ids": [items[0]["id"]], "all": False, "unread_count": 2}
    assert reads[1]["all"] is True and reads[1]["unread_count"] == 0


async def test_bad_list_and_read_input_is_422(client):
    _, alice_h = await user(client, "alice")
    for url in (
        "/api/v1/notifications?limit=0",
        "/api/v1/notifications?limit=101",
        "/api/v1/notifications?limit=abc",
        "/api/v1/notifications?cursor=garbage",
        "/api/v1/notifications/grouped?cursor=bjoxMjM",
        "/api/v1/notifications?types=poke",
    ):
        res = await client.get(url, headers=alice_h)
        assert res.status_code == 422, url
        assert res.json()["code"] == "validation_error"
    for body in ({}, {"ids": []}, {"ids": ["x1"]}, {"all": True, "ids": ["1"]}, {"all": "yes"}, {"nope": 1}):
        res = await client.post("/api/v1/notifications/read", json=body, headers=alice_h)
        assert res.status_code == 422, body
    assert (await client.get("/api/v1/notifications")).status_code == 401


async def test_openapi_documents_the_notification_endpoints(client):
    spec = (await client.get("/schema/openapi.json")).json()
    for path in (
        "/api/v1/notifications",
        "/api/v1/notifications/grouped",
        "/api/v1/notifications/unread-count",
        "/api/v1/notifications/read",
        "/api/v1/notifications/preferences",
        "/api/v1/push-tokens",
        "/api/v1/push-tokens/{token_id}",
    ):
        assert path in spec["paths"], path
    assert "422" in spec["paths"]["/api/v1/push-tokens"]["post"]["responses"]
