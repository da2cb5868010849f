"""Posts, visibility, likes, comments, edits, reposts, bookmarks, reports and their bad input."""

from __future__ import annotations

import asyncio

from tests.integration.social.helpers import ids, signup, users

API = "/api/v1"


async def _count(table: str) -> int:
    from server import sql

    return int(await sql.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608


async def test_create_read_delete(client):
    alice, bob = await users(client, "alice", "bob")
    post = await alice.publish("Hi #Flow and #flow, @bob and @nobody, mail me a@b.com")
    assert isinstance(post["id"], str) and post["author"]["username"] == "alice"
    assert post["hashtags"] == ["flow"] and [m["username"] for m in post["mentions"]] == ["bob"]
    assert post["like_count"] == 0 and post["comment_count"] == 0 and post["liked_by_me"] is False
    assert post["visibility"] == "public" and post["created_at"]
    got = await client.get(f"{API}/posts/{post['id']}")
    assert got.status_code == 200 and got.json()["text"] == post["text"]
    assert (await client.get(f"{API}/users/alice")).json()["posts_count"] == 1
    other = await bob.delete(f"{API}/posts/{post['id']}")
    assert other.status_code == 403 and other.json()["code"] == "forbidden"
    assert (await alice.delete(f"{API}/posts/{post['id']}")).status_code == 204
    assert (await client.get(f"{API}/posts/{post['id']}")).status_code == 404
    assert (await alice.delete(f"{API}/posts/{post['id']}")).status_code == 404
    assert (await client.get(f"{API}/users/alice")).json()["posts_count"] == 0


async def test_bad_posts_change_nothing(client):
    (alice,) = await users(client, "alice")
    for body in (
        {"text": ""},
        {"text": "x" * 5001},
        {"text": "hi", "visibility": "friends"},
        {"text": 5},
        {"visibility": "public"},
        {"text": "hi", "extra": 1},
    ):
        res = await alice.post(f"{API}/posts", json=body)
        assert res.status_code in (400, 422) and res.json()["code"] == "validation_error", body
    raw = await client.post(
        f"{API}/posts", content=b"{nope", headers={**alice.headers, "content-type": "application/json"}
    )
    assert raw.status_code in (400, 422)
    assert (await client.post(f"{API}/posts", json={"text": "anon"})).status_code == 401
    assert await _count("posts") == 0 and await _count("outbox_events") == 0
    assert (await alice.post(f"{API}/posts", json={"text": "x" * 5000})).status_code == 201
    for bad in ("123", "abc", "9" * 30, "-1"):
        assert (await client.get(f"{API}/posts/{bad}")).status_code == 404


async def test_visibility_rules(client):
    alice, bob, carol = await users(client, "alice", "bob", "carol")
    await bob.follow(alice)
    followers = await alice.publish("followers only", "followers")
    private = await alice.publish("psst @carol", "private")
    for actor, fid, pid in ((alice, 200, 200), (bob, 200, 404), (carol, 404, 200)):
        assert (await actor.get(f"{API}/posts/{followers['id']}")).status_code == fid
        assert (await actor.get(f"{API}/posts/{private['id']}")).status_code == pid
    assert (await client.get(f"{API}/posts/{followers['id']}")).status_code == 404
    # Hidden posts cannot be liked, commented or reported either (404, nothing stored).
    assert (await carol.post(f"{API}/posts/{followers['id']}/like")).status_code == 404
    assert (await carol.post(f"{API}/posts/{followers['id']}/comments", json={"text": "hi"})).status_code == 404
    assert (await bob.delete(f"{API}/posts/{private['id']}")).status_code == 404
    assert await _count("post_likes") == 0 and await _count("comments") == 0
    # Blocking hides posts both ways.
    public = await alice.publish("public")
    await alice.post(f"{API}/users/carol/block")
    assert (await carol.get(f"{API}/posts/{public['id']}")).status_code == 404
    assert public["id"] not in ids(await carol.feed(f"{API}/feeds/public"))


async def test_like_idempotent_and_concurrent(client):
    alice = await signup(client, "alice")
    fans = [await signup(client, f"fan{i}") for i in range(15)]
    post = await alice.publish("like me")
    pid = post["id"]
    first = await fans[0].post(f"{API}/posts/{pid}/like")
    again = await fans[0].post(f"{API}/posts/{pid}/like")
    assert first.json()["like_count"] == 1 and again.json()["like_count"] == 1 and again.json()["liked_by_me"]
    res = await asyncio.gather(*(f.post(f"{API}/posts/{pid}/like") for f in fans + fans))
    assert all(r.status_code == 200 for r in res)
    assert (await client.get(f"{API}/posts/{pid}")).json()["like_count"] == 15
    await asyncio.gather(*(f.delete(f"{API}/posts/{pid}/like") for f in fans[:6] + fans[:6]))
    got = (await fans[0].get(f"{API}/posts/{pid}")).json()
    assert got["like_count"] == 9 and got["liked_by_me"] is False
    assert await _count("post_likes") == 9


async def test_concurrent_comments_count_exactly(client):
    alice, bob = await users(client, "alice", "bob")
    pid = (await alice.publish("talk"))["id"]
    res = await asyncio.gather(*(bob.post(f"{API}/posts/{pid}/comments", json={"text": f"c{i}"}) for i in range(12)))
    assert all(r.status_code == 201 for r in res)
    assert (await client.get(f"{API}/posts/{pid}")).json()["comment_count"] == 12


async def test_comments_threads_order_and_deletion_rules(client):
    alice, bob, carol = await users(client, "alice", "bob", "carol")
    mod = await signup(client, "mod", role="moderator")
    pid = (await alice.publish("discuss"))["id"]
    c1 = (await bob.post(f"{API}/posts/{pid}/comments", json={"text": "first"})).json()
    c2 = (await carol.post(f"{API}/posts/{pid}/comments", json={"text": "second"})).json()
    reply = await alice.post(f"{API}/posts/{pid}/comments", json={"text": "reply @bob", "parent_id": c1["id"]})
    assert reply.status_code == 201 and reply.json()["parent_id"] == c1["id"]
    oldest = (await client.get(f"{API}/posts/{pid}/comments")).json()
    assert [c["text"] for c in oldest["items"]] == ["first", "second", "reply @bob"]
    newest = (await client.get(f"{API}/posts/{pid}/comments", params={"order": "newest", "limit": 2})).json()
    assert [c["text"] for c in newest["items"]] == ["reply @bob", "second"]
    rest = await client.get(f"{API}/posts/{pid}/comments", params={"order": "newest", "cursor": newest["next_cursor"]})
    assert [c["text"] for c in rest.json()["items"]] == ["first"]
    # A cursor from the oldest-first list does not fit the newest-first one.
    mixed = await client.get(f"{API}/posts/{pid}/comments", params={"order": "oldest", "cursor": newest["next_cursor"]})
    assert mixed.status_code == 422
    thread = (await client.get(f"{API}/posts/{pid}/comments", params={"parent_id": c1["id"]})).json()["items"]
    assert [c["text"] for c in thread] == ["reply @bob"]
    assert (await client.get(f"{API}/posts/{pid}/comments", params={"order": "sideways"})).status_code == 422
    bad_parent = await bob.post(f"{API}/posts/{pid}/comments", json={"text": "x", "parent_id": "12345"})
    assert bad_parent.status_code == 422
    assert (await bob.post(f"{API}/posts/{pid}/comments", json={"text": ""})).status_code == 422
    for parent in ("9" * 19, "abc", "1" * 20, 5):
        res = await bob.post(f"{API}/posts/{pid}/comments", json={"text": "x", "parent_id": parent})
        assert res.status_code == 422, parent
    huge = await bob.post(f"{API}/posts", json={"text": "x", "media_ids": ["9" * 19]})
    assert huge.status_code == 422
    rep = await bob.post(f"{API}/reports", json={"target_type": "post", "target_id": "9" * 25, "reason": "x"})
    assert rep.status_code == 422
    # Comment likes are idempotent.
    liked = [await carol.post(f"{API}/comments/{c1['id']}/like") for _ in range(2)]
    assert liked[-1].json()["like_count"] == 1 and liked[-1].json()["liked_by_me"] is True
    # Deletion: not a stranger; yes the comment's author, the post's author, a moderator.
    assert (await carol.delete(f"{API}/comments/{c1['id']}")).status_code == 403
    assert (await bob.delete(f"{API}/comments/{c1['id']}")).status_code == 204
    assert (await alice.delete(f"{API}/comments/{c2['id']}")).status_code == 204
    assert (await mod.delete(f"{API}/comments/{reply.json()['id']}")).status_code == 204
    assert (await client.get(f"{API}/posts/{pid}")).json()["comment_count"] == 0
    assert (await client.get(f"{API}/posts/{pid}/comments")).json()["items"] == []
    assert (await bob.delete(f"{API}/comments/{c1['id']}")).status_code == 404


async def test_blocked_users_comments_are_hidden(client):
    alice, bob, carol = await users(client, "alice", "bob", "carol")
    pid = (await alice.publish("open"))["id"]
    await bob.post(f"{API}/posts/{pid}/comments", json={"text": "from bob"})
    await carol.post(f"{API}/users/bob/block")
    items = (await carol.get(f"{API}/posts/{pid}/comments")).json()["items"]
    assert items == []
    assert len((await alice.get(f"{API}/posts/{pid}/comments")).json()["items"]) == 1


async def test_edit_keeps_history(client):
    alice, bob = await users(client, "alice", "bob")
    pid = (await alice.publish("first #one"))["id"]
    assert (await bob.patch(f"{API}/posts/{pid}", json={"text": "hijack"})).status_code == 403
    res = await alice.patch(f"{API}/posts/{pid}", json={"text": "second #two"})
    assert res.status_code == 200 and res.json()["edited_at"] and res.json()["hashtags"] == ["two"]
    assert (await alice.patch(f"{API}/posts/{pid}", json={"text": ""})).status_code == 422
    history = (await client.get(f"{API}/posts/{pid}/history")).json()["items"]
    assert [h["text"] for h in history] == ["first #one"]
    assert (await client.get(f"{API}/posts/{pid}")).json()["text"] == "second #two"


async def test_reposts_and_bookmarks(client):
    alice, bob, carol = await users(client, "alice", "bob", "carol")
    await carol.follow(bob)
    pid = (await alice.publish("share me"))["id"]
    first = await bob.post(f"{API}/posts/{pid}/repost")
    again = await bob.post(f"{API}/posts/{pid}/repost")
    assert first.status_code == 201 and again.status_code == 200 and first.json()["id"] == again.json()["id"]
    assert first.json()["repost_of"]["id"] == pid
    assert (await bob.get(f"{API}/posts/{pid}")).json()["repost_count"] == 1
    assert (await bob.get(f"{API}/posts/{pid}")).json()["reposted_by_me"] is True
    racing = await asyncio.gather(*(carol.post(f"{API}/posts/{pid}/repost") for _ in range(4)))
    assert sorted(r.status_code for r in racing) == [200, 200, 200, 201]
    assert (await bob.get(f"{API}/posts/{pid}")).json()["repost_count"] == 2
    await carol.delete(f"{API}/posts/{pid}/repost")
    home = await carol.feed(f"{API}/feeds/home")
    assert home[0]["repost_of"]["id"] == pid and home[0]["author"]["username"] == "bob"
    hidden = await alice.publish("friends", "followers")
    assert (await bob.post(f"{API}/posts/{hidden['id']}/repost")).status_code == 404
    assert (await bob.delete(f"{API}/posts/{pid}/repost")).status_code == 204
    assert (await bob.get(f"{API}/posts/{pid}")).json()["repost_count"] == 0
    assert await carol.feed(f"{API}/feeds/home") == []
    for _ in range(2):
        assert (await carol.post(f"{API}/posts/{pid}/bookmark")).json()["bookmarked_by_me"] is True
    assert ids(await carol.feed(f"{API}/users/me/bookmarks")) == [pid]
    assert await bob.feed(f"{API}/users/me/bookmarks") == []
    await carol.delete(f"{API}/posts/{pid}/bookmark")
    assert await carol.feed(f"{API}/users/me/bookmarks") == []


async def test_reports_and_moderator_removal_is_audited(client):
    from server import sql

    alice, bob = await users(client, "alice", "bob")
    mod = await signup(client, "mod", role="moderator")
    pid = (await alice.publish("rude", "followers"))["id"]
    assert (
        await bob.post(f"{API}/reports", json={"target_type": "post", "target_id": pid, "reason": "x"})
    ).status_code == 404
    pub = (await alice.publish("rude again"))["id"]
    rep = await bob.post(f"{API}/reports", json={"target_type": "post", "target_id": pub, "reason": "spam"})
    assert rep.status_code == 201 and rep.json()["status"] == "open"
    urep = await bob.post(f"{API}/reports", json={"target_type": "user", "target_id": alice.id, "reason": "troll"})
    assert urep.status_code == 201
    bad = await bob.post(f"{API}/reports", json={"target_type": "video", "target_id": pub, "reason": "x"})
    assert bad.status_code == 422
    assert (await bob.get(f"{API}/moderation/reports")).status_code == 403
    queue = (await mod.get(f"{API}/moderation/reports")).json()["items"]
    assert {r["target_type"] for r in queue} == {"post", "user"}
    denied = await bob.post(f"{API}/moderation/posts/{pub}/remove", json={"reason": "no"})
    assert denied.status_code == 403
    assert (await mod.post(f"{API}/moderation/posts/{pid}/remove", json={"reason": "abuse"})).status_code == 204
    assert (await mod.delete(f"{API}/posts/{pub}")).status_code == 204
    assert (await alice.get(f"{API}/posts/{pid}")).status_code == 404
    audit = await sql.fetch("SELECT action, details FROM audit_events WHERE action = 'post.removed' ORDER BY id")
    assert len(audit) == 2 and "abuse" in audit[0]["details"]
