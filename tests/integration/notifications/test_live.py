"""Notifications live on ``user:{id}``: gap-free subscribe from the list position, read sync, no push while online."""

from __future__ import annotations

import asyncio

from server import events
from tests.integration.notifications.helpers import drain, fcm_token, fire, member, user
from tests.integration.realtime.helpers import connect

POST = 31337


async def test_like_arrives_live_after_the_lists_position_and_no_push_while_connected(app, client, push_env):
    alice, alice_h = await user(client, "alice")
    bob = await member("bob")
    token = alice_h["Authorization"].removeprefix("Bearer ")
    await client.post("/api/v1/push-tokens", json={"platform": "fcm", "token": fcm_token(1)}, headers=alice_h)
    # One notification before the page, so the channel has history. The outbox relay publishes it after
    # the commit, on its own task: until it has, the page holds the follow but its position does not, and
    # a subscribe from there replays it (docs/api.md: "dedupe by id"). Wait for it to be published.
    async with connect(client, token) as watch:
        assert (await watch.subscribe(f"user:{alice}"))["type"] == "subscribed"
        await fire(client, events.Followed(actor_id=int(bob), target_id=int(alice)))
        follow = await watch.event()
        assert follow["event"] == "notification.created" and follow["data"]["type"] == "follow"
    async with connect(client, token) as sock:
        page = (await client.get("/api/v1/notifications", headers=alice_h)).json()
        position = page["position"]
        assert position["channel"] == f"user:{alice}" and isinstance(position["offset"], int) and position["epoch"]
        reply = await sock.subscribe(f"user:{alice}", since={"offset": position["offset"], "epoch": position["epoch"]})
        assert reply["type"] == "subscribed" and reply["recovered"] is True

        assert reply["publications"] == []  # the follow is in the page, not replayed

        await fire(client, events.Liked(actor_id=int(bob), post_id=POST, post_author_id=int(alice)))
        event = await sock.event()
        assert event["channel"] == f"user:{alice}" and event["event"] == "notification.created"
        assert event["offset"] == position["offset"] + 1 and event["data"]["type"] == "like"
        assert event["data"]["actor"]["username"] == "bob" and event["data"]["read"] is False
        assert (await client.get("/api/v1/notifications/unread-count", headers=alice_h)).json() == {"count": 2}

        await drain(app)
        assert push_env.http.requests == []  # she is looking: no push

        res = await client.post("/api/v1/notifications/read", json={"ids": [event["data"]["id"]]}, headers=alice_h)
        assert res.status_code == 204
        read = await sock.event()
        assert read["event"] == "notification.read" and read["data"]["ids"] == [event["data"]["id"]]
        assert read["data"]["unread_count"] == 1

    # Socket closed: once presence has forgotten it, the next notification is pushed.
    for _ in range(100):
        if not await app.state.realtime.presence.is_online(int(alice)):
            break
        await asyncio.sleep(0.05)
    await fire(client, events.Commented(actor_id=int(bob), post_id=POST, post_author_id=int(alice), comment_id=2))
    await drain(app)
    assert [r.json()["message"]["data"]["type"] for r in push_env.http.requests] == ["comment"]
