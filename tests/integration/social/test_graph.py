"""Profiles, follow/unfollow, follow requests, block, mute, lists and their bad input."""

from __future__ import annotations

import asyncio

from tests.integration.social.helpers import signup, signup_via_api, users

API = "/api/v1"


async def test_profile_counts_and_idempotent_follow(client):
    alice, bob = await signup_via_api(client, "alice"), await signup_via_api(client, "bob")
    assert (await bob.follow(alice))["state"] == "following"
    assert (await bob.follow(alice))["user"]["followers_count"] == 1  # twice: still one follow
    prof = (await client.get(f"{API}/users/ALICE")).json()
    assert prof["id"] == alice.id and prof["followers_count"] == 1 and prof["following_count"] == 0
    assert set(prof) >= {"id", "username", "display_name", "avatar_url", "followers_count", "following_count"}
    assert (await bob.get(f"{API}/users/bob")).json()["following_count"] == 1
    for _ in range(2):
        res = await bob.delete(f"{API}/users/alice/follow")
        assert res.status_code == 200 and res.json()["state"] == "none"
    assert (await client.get(f"{API}/users/alice")).json()["followers_count"] == 0
    assert (await client.get(f"{API}/users/bob")).json()["following_count"] == 0


async def test_follow_errors(client):
    alice, bob = await users(client, "alice", "bob")
    me = await alice.post(f"{API}/users/alice/follow")
    assert me.status_code == 422 and me.json()["code"] == "validation_error"
    assert (await alice.post(f"{API}/users/nobody/follow")).status_code == 404
    assert (await client.post(f"{API}/users/bob/follow")).status_code == 401
    # bob blocks alice: alice can neither see nor follow bob (404, no leak).
    assert (await bob.post(f"{API}/users/alice/block")).status_code == 204
    res = await alice.post(f"{API}/users/bob/follow")
    assert res.status_code == 404 and res.json()["code"] == "not_found"
    assert (await alice.get(f"{API}/users/bob")).status_code == 404
    # bob (the blocker) must unblock before following.
    assert (await bob.post(f"{API}/users/alice/follow")).status_code == 409
    assert (await client.get(f"{API}/users/bob")).json()["followers_count"] == 0


async def test_block_removes_follows_both_ways(client):
    alice, bob = await users(client, "alice", "bob")
    await alice.follow(bob)
    await bob.follow(alice)
    assert (await alice.post(f"{API}/users/bob/block")).status_code == 204
    for name in ("alice", "bob"):
        prof = (await alice.get(f"{API}/users/{name}")).json()
        assert prof["followers_count"] == 0 and prof["following_count"] == 0
    assert (await alice.get(f"{API}/users/bob")).json()["relationship"]["blocking"] is True
    assert (await alice.delete(f"{API}/users/bob/block")).status_code == 204
    assert (await bob.get(f"{API}/users/alice")).status_code == 200


async def test_private_account_requests(client):
    alice, bob, carol = await users(client, "alice", "bob", "carol")
    assert (await alice.patch(f"{API}/users/me", json={"is_private": True})).json()["is_private"] is True
    res = await bob.follow(alice)
    assert res["state"] == "requested" and res["user"]["followers_count"] == 0
    await carol.follow(alice)
    reqs = (await alice.get(f"{API}/users/me/follow-requests")).json()
    assert {u["username"] for u in reqs["items"]} == {"bob", "carol"}
    # A private account's posts and lists are hidden from non-followers.
    post = await alice.publish("only for friends")
    assert (await bob.get(f"{API}/posts/{post['id']}")).status_code == 404
    assert (await bob.get(f"{API}/users/alice/followers")).status_code == 403
    assert (await alice.post(f"{API}/users/me/follow-requests/bob/accept")).status_code == 204
    assert (await alice.post(f"{API}/users/me/follow-requests/carol/reject")).status_code == 204
    assert (await alice.post(f"{API}/users/me/follow-requests/carol/accept")).status_code == 404
    assert (await bob.get(f"{API}/posts/{post['id']}")).status_code == 200
    assert (await carol.get(f"{API}/posts/{post['id']}")).status_code == 404
    prof = (await bob.get(f"{API}/users/alice")).json()
    assert prof["followers_count"] == 1 and prof["relationship"]["following"] is True
    assert [u["username"] for u in (await bob.get(f"{API}/users/alice/followers")).json()["items"]] == ["bob"]


async def test_follower_lists_page_with_cursor(client):
    star = await signup(client, "star")
    fans = [await signup(client, f"fan{i}") for i in range(5)]
    for fan in fans:
        await fan.follow(star)
    page1 = (await client.get(f"{API}/users/star/followers", params={"limit": 2})).json()
    page2 = (
        await client.get(f"{API}/users/star/followers", params={"limit": 2, "cursor": page1["next_cursor"]})
    ).json()
    page3 = (
        await client.get(f"{API}/users/star/followers", params={"limit": 2, "cursor": page2["next_cursor"]})
    ).json()
    names = [u["username"] for p in (page1, page2, page3) for u in p["items"]]
    assert names == ["fan4", "fan3", "fan2", "fan1", "fan0"] and page3["next_cursor"] is None
    following = (await client.get(f"{API}/users/fan0/following")).json()
    assert [u["username"] for u in following["items"]] == ["star"]
    assert following["items"][0]["followers_count"] == 5


async def test_list_bad_input_is_422(client):
    await signup(client, "star")
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "garbage"}):
        res = await client.get(f"{API}/users/star/followers", params=params)
        assert res.status_code == 422 and res.json()["code"] == "validation_error", params
    page = (await client.get(f"{API}/feeds/public", params={"limit": 1})).json()
    assert page["next_cursor"] is None
    # A cursor of another list is rejected too, as is a bit-flipped one.
    other = await client.get(f"{API}/users/star/following", params={"cursor": "AAAA" * 10})
    assert other.status_code == 422


async def test_mute_hides_from_feeds_only(client):
    alice, bob = await users(client, "alice", "bob")
    await bob.follow(alice)
    post = await alice.publish("loud #news")
    assert (await bob.post(f"{API}/users/alice/mute")).status_code == 204
    assert await bob.feed(f"{API}/feeds/home") == []
    assert await bob.feed(f"{API}/feeds/public") == []
    assert await bob.feed(f"{API}/hashtags/news/posts") == []
    assert (await bob.get(f"{API}/posts/{post['id']}")).status_code == 200  # still readable directly
    assert (await bob.get(f"{API}/users/alice")).json()["relationship"]["muting"] is True
    assert (await bob.delete(f"{API}/users/alice/mute")).status_code == 204
    assert [p["id"] for p in await bob.feed(f"{API}/feeds/home")] == [post["id"]]


async def test_patch_me_and_search(client):
    alice, _bob = await users(client, "alice", "bob")
    await signup(client, "alicia")
    res = await alice.patch(
        f"{API}/users/me",
        json={
            "display_name": "Alice Liddell",
            "bio": "down the hole",
            "links": [{"label": "web", "url": "https://a.example"}],
        },
    )
    assert res.status_code == 200
    assert res.json()["display_name"] == "Alice Liddell" and res.json()["links"][0]["url"] == "https://a.example"
    bad = await alice.patch(f"{API}/users/me", json={"display_name": "x" * 65})
    assert bad.status_code == 422
    unknown = await alice.patch(f"{API}/users/me", json={"role": "admin"})
    assert unknown.status_code in (400, 422)
    assert (await client.get(f"{API}/users/alice")).json()["display_name"] == "Alice Liddell"
    found = (await client.get(f"{API}/users/search", params={"q": "alice"})).json()["items"]
    assert found[0]["username"] == "alice" and "alicia" in [u["username"] for u in found]
    by_name = (await client.get(f"{API}/users/search", params={"q": "liddell"})).json()["items"]
    assert [u["username"] for u in by_name] == ["alice"]
    assert (await client.get(f"{API}/users/search", params={"q": ""})).status_code == 422


async def test_concurrent_follows_count_exactly(client):
    star = await signup(client, "star")
    fans = [await signup(client, f"fan{i}") for i in range(12)]
    # Every fan follows twice at once: 12 follows, never 24, never lost updates.
    results = await asyncio.gather(*(fan.post(f"{API}/users/star/follow") for fan in fans + fans))
    assert all(r.status_code == 200 for r in results)
    assert (await client.get(f"{API}/users/star")).json()["followers_count"] == 12
    await asyncio.gather(*(fan.delete(f"{API}/users/star/follow") for fan in fans[:5] + fans[:5]))
    assert (await client.get(f"{API}/users/star")).json()["followers_count"] == 7
    assert (await client.get(f"{API}/users/fan0")).json()["following_count"] == 0
    assert star.id


async def test_going_public_accepts_pending_requests(client):
    alice, bob = await users(client, "alice", "bob")
    await alice.patch(f"{API}/users/me", json={"is_private": True})
    assert (await bob.follow(alice))["state"] == "requested"
    secret = await alice.publish("public post of a private account #hidden")
    assert secret["id"] not in [p["id"] for p in (await client.get(f"{API}/feeds/public")).json()["items"]]
    assert (await client.get(f"{API}/hashtags/hidden/posts")).json()["items"] == []
    await alice.patch(f"{API}/users/me", json={"is_private": False})
    prof = (await bob.get(f"{API}/users/alice")).json()
    assert prof["followers_count"] == 1 and prof["relationship"]["following"] is True
    assert (await alice.get(f"{API}/users/me/follow-requests")).json()["items"] == []
    assert [p["id"] for p in (await client.get(f"{API}/feeds/public")).json()["items"]] == [secret["id"]]
