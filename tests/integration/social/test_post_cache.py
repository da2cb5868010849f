"""Feeds serve posts' content from a cache keyed by row version: an edit, delete, like or comment shows at once."""

from __future__ import annotations

from server.social.services import visibility as views
from tests.integration.social.helpers import users

API = "/api/v1"


def _post(items: list[dict], pid: str) -> dict:
    return next(p for p in items if p["id"] == pid)


async def test_a_cached_post_reflects_edits_likes_comments_and_deletes_at_once(client):
    alice, bob = await users(client, "alice", "bob")
    await bob.follow(alice)
    pid = (await alice.publish("first words #one"))["id"]
    views.CONTENT.clear()
    await bob.feed(f"{API}/feeds/home")  # loads the content and caches it
    hits = views.CONTENT.hits
    again = _post(await bob.feed(f"{API}/feeds/home"), pid)
    assert views.CONTENT.hits > hits  # the second read is served from the cache
    assert again["text"] == "first words #one" and again["like_count"] == 0

    assert (await alice.patch(f"{API}/posts/{pid}", json={"text": "second words #two"})).status_code == 200
    edited = _post(await bob.feed(f"{API}/feeds/home"), pid)
    assert edited["text"] == "second words #two" and edited["hashtags"] == ["two"] and edited["edited_at"]

    assert (await bob.post(f"{API}/posts/{pid}/like")).status_code in (200, 201, 204)
    liked = _post(await bob.feed(f"{API}/feeds/home"), pid)
    assert liked["like_count"] == 1 and liked["liked_by_me"] is True
    # The same content, another viewer: the counter is shared, "liked by me" is not.
    mine = _post(await alice.feed(f"{API}/feeds/home"), pid)
    assert mine["like_count"] == 1 and mine["liked_by_me"] is False

    assert (await bob.post(f"{API}/posts/{pid}/comments", json={"text": "nice"})).status_code == 201
    assert _post(await bob.feed(f"{API}/feeds/home"), pid)["comment_count"] == 1
    assert (await client.get(f"{API}/posts/{pid}")).json()["comment_count"] == 1

    assert (await bob.delete(f"{API}/posts/{pid}/like")).status_code in (200, 204)
    assert _post(await bob.feed(f"{API}/feeds/home"), pid)["like_count"] == 0

    assert (await alice.delete(f"{API}/posts/{pid}")).status_code == 204
    assert all(p["id"] != pid for p in await bob.feed(f"{API}/feeds/home"))
    assert (await client.get(f"{API}/posts/{pid}")).status_code == 404


async def test_the_cache_never_widens_who_sees_a_post(client):
    alice, bob, carol = await users(client, "alice", "bob", "carol")
    await bob.follow(alice)
    pid = (await alice.publish("for followers only", visibility="followers"))["id"]
    assert any(p["id"] == pid for p in await bob.feed(f"{API}/feeds/home"))  # cached now
    assert (await carol.get(f"{API}/posts/{pid}")).status_code == 404
    assert (await alice.post(f"{API}/users/bob/block")).status_code in (200, 201, 204)
    assert all(p["id"] != pid for p in await bob.feed(f"{API}/feeds/home"))
    assert (await bob.get(f"{API}/posts/{pid}")).status_code == 404
