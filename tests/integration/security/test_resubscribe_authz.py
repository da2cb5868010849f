"""Finding 3: live subscriptions are re-authorized on a block, a privacy change, a role change or a suspension."""

from __future__ import annotations

import asyncio
import json

from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import signup

API = "/api/v1"


async def until_unsubscribed(ws, channel):
    for _ in range(50):
        frame = json.loads(await ws.ws.receive_text(timeout=10))
        if frame["type"] == "unsubscribed" and frame["channel"] == channel:
            return frame
    raise AssertionError(f"no unsubscribed frame for {channel}")


async def test_a_block_ends_the_blocked_users_post_subscription(client):
    alice, bob, carol = [await signup(client, n) for n in ("alice", "bob", "carol")]
    post = await alice.publish("hello world")
    channel = f"post:{post['id']}"
    async with connect(client, bob.token) as ws:
        assert (await ws.subscribe(channel))["type"] == "subscribed"
        assert (await alice.post(f"{API}/users/bob/block")).status_code in (200, 204)
        frame = await until_unsubscribed(ws, channel)
        assert frame["reason"] == "forbidden"
        # Nothing more reaches bob on that channel: a comment by carol is not delivered.
        assert (await carol.post(f"{API}/posts/{post['id']}/comments", json={"text": "hi"})).status_code == 201
        assert (await ws.call({"type": "ping"}))["type"] == "pong"
        await asyncio.sleep(0.5)
        assert (await ws.call({"type": "ping"}))["type"] == "pong"
        assert [f for f in ws.backlog if f.get("channel") == channel] == []
        # Subscribing again is refused.
        again = await ws.subscribe(channel)
        assert again["type"] == "error" and again["code"] == "forbidden"


async def test_going_private_ends_strangers_post_subscriptions_not_followers(client):
    alice, fan, stranger = [await signup(client, n) for n in ("alice", "fan", "stranger")]
    await fan.follow(alice)
    post = await alice.publish("public for now")
    channel = f"post:{post['id']}"
    async with connect(client, stranger.token) as s_ws, connect(client, fan.token) as f_ws:
        assert (await s_ws.subscribe(channel))["type"] == "subscribed"
        assert (await f_ws.subscribe(channel))["type"] == "subscribed"
        assert (await alice.patch(f"{API}/users/me", json={"is_private": True})).status_code == 200
        assert (await until_unsubscribed(s_ws, channel))["reason"] == "forbidden"
        assert (await fan.post(f"{API}/posts/{post['id']}/comments", json={"text": "still here"})).status_code == 201
        event = await f_ws.event()
        assert event["channel"] == channel and event["event"] == "comment.created"


async def test_a_suspension_ends_others_subscriptions_to_the_suspended_users_posts(client):
    alice, bob = [await signup(client, n) for n in ("alice", "bob")]
    root = await signup(client, "root", role="admin")
    post = await alice.publish("soon gone")
    channel = f"post:{post['id']}"
    async with connect(client, bob.token) as ws:
        assert (await ws.subscribe(channel))["type"] == "subscribed"
        assert (await root.post(f"{API}/admin/users/{alice.id}/suspend", json={"reason": "spam"})).status_code in (
            200,
            204,
        )
        assert (await until_unsubscribed(ws, channel))["reason"] == "forbidden"
