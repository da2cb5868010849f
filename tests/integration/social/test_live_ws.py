"""Two users follow, post, like and comment, and see each other's activity live over the websocket."""

from __future__ import annotations

from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import users

API = "/api/v1"


async def _event(ws, channel: str, event: str) -> dict:
    """The next event on ``channel`` named ``event`` (others, e.g. post.stats, are skipped)."""
    while True:
        frame = await ws.event()
        if frame["channel"] == channel and frame["event"] == event:
            return frame


async def test_follow_post_like_comment_live(client):
    alice, bob = await users(client, "alice", "bob")
    await bob.follow(alice)
    home = (await bob.get(f"{API}/feeds/home")).json()
    assert home["position"] is not None  # where to subscribe from, with no gap
    async with connect(client, bob.token) as bob_ws, connect(client, alice.token) as alice_ws:
        sub = await bob_ws.subscribe(f"timeline:home:{bob.id}", since=home["position"])
        assert sub["type"] == "subscribed" and sub["recovered"] is True
        assert (await bob_ws.subscribe("timeline:public"))["type"] == "subscribed"
        assert (await bob_ws.subscribe("hashtag:hello"))["type"] == "subscribed"

        post = await alice.publish("#hello world")
        created = await _event(bob_ws, f"timeline:home:{bob.id}", "post.created")
        assert created["data"]["id"] == post["id"] and created["data"]["liked_by_me"] is False
        assert (await _event(bob_ws, "timeline:public", "post.created"))["data"]["id"] == post["id"]
        assert (await _event(bob_ws, "hashtag:hello", "post.created"))["data"]["id"] == post["id"]

        # Alice watches her post; Bob likes and comments; she sees both.
        assert (await alice_ws.subscribe(f"post:{post['id']}"))["type"] == "subscribed"
        await bob.post(f"{API}/posts/{post['id']}/like")
        await bob.post(f"{API}/posts/{post['id']}/comments", json={"text": "nice"})
        comment = await _event(alice_ws, f"post:{post['id']}", "comment.created")
        assert comment["data"]["text"] == "nice" and comment["data"]["author"]["username"] == "bob"
        stats = await _event(alice_ws, f"post:{post['id']}", "post.stats")
        while stats["data"]["comment_count"] < 1:  # an earlier flush may carry the like alone
            stats = await _event(alice_ws, f"post:{post['id']}", "post.stats")
        assert stats["data"] == {"id": post["id"], "like_count": 1, "comment_count": 1}

        await alice.delete(f"{API}/posts/{post['id']}")
        gone = await _event(bob_ws, f"timeline:home:{bob.id}", "post.deleted")
        assert gone["data"] == {"id": post["id"]}


async def test_post_channel_follows_visibility_and_blocks(client):
    alice, bob, carol = await users(client, "alice", "bob", "carol")
    await bob.follow(alice)
    friends = await alice.publish("friends only", "followers")
    async with connect(client, bob.token) as bob_ws, connect(client, carol.token) as carol_ws:
        assert (await bob_ws.subscribe(f"post:{friends['id']}"))["type"] == "subscribed"
        denied = await carol_ws.subscribe(f"post:{friends['id']}")
        assert denied["type"] == "error" and denied["code"] == "forbidden"
        assert (await carol_ws.subscribe("post:999999"))["code"] == "forbidden"
        await alice.post(f"{API}/users/bob/block")
        again = await bob_ws.subscribe(f"post:{friends['id']}", since=None)
        assert again["type"] == "error" and again["code"] == "forbidden"


async def test_a_new_post_reaches_users_in_a_block_relation_with_its_author_only_as_hidden(client):
    """The public and hashtag channels withhold a post from those the feeds hide it from: `hidden` at its offset."""
    bob, carol, dave, erin = await users(client, "bob", "carol", "dave", "erin")
    assert (await carol.post(f"{API}/users/bob/block")).status_code in (200, 204)  # carol blocks the author
    assert (await bob.post(f"{API}/users/erin/block")).status_code in (200, 204)  # the author blocks erin
    channels = ("timeline:public", "hashtag:hello")
    async with (
        connect(client, carol.token) as carol_ws,
        connect(client, dave.token) as dave_ws,
        connect(client, erin.token) as erin_ws,
    ):
        for ws in (carol_ws, dave_ws, erin_ws):
            for channel in channels:
                assert (await ws.subscribe(channel))["type"] == "subscribed"
        post = await bob.publish("#hello from bob")
        for channel in channels:
            shown = await _event(dave_ws, channel, "post.created")
            assert shown["data"]["id"] == post["id"]
            for ws in (carol_ws, erin_ws):
                frame = await ws.event()
                assert (frame["channel"], frame["event"], frame["data"]) == (channel, "hidden", {})
                assert frame["offset"] == shown["offset"]
    for reader in (carol, erin):
        assert post["id"] not in [p["id"] for p in await reader.feed(f"{API}/feeds/public")]
