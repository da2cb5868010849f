"""Finding 12: roles in public user objects, bell and mention notifications past visibility, suspended posts."""

from __future__ import annotations

from tests.integration.social.helpers import signup, users

API = "/api/v1"


async def notifications(actor, kind):
    res = await actor.get(f"{API}/notifications")
    assert res.status_code == 200, res.text
    return [n for n in res.json()["items"] if n["type"] == kind]


async def test_public_user_objects_carry_no_role(client):
    res = await client.post(
        f"{API}/auth/register",
        json={"username": "alice", "email": "alice@example.com", "password": "correct horse battery"},
    )
    assert res.status_code == 201 and "role" not in res.json()
    mod = await signup(client, "mod", role="moderator")
    bob = await signup(client, "bob")
    await mod.follow(bob)
    actor = (await notifications(bob, "follow"))[0]["actor"]
    assert actor["username"] == "mod" and "role" not in actor
    assert "role" not in (await bob.get(f"{API}/users/mod")).json()
    sub = await bob.post(f"{API}/notifications/subscriptions/mod")
    assert sub.status_code in (200, 201) and "role" not in sub.json()
    # The owner still sees their own role.
    assert (await mod.get(f"{API}/auth/me")).json()["role"] == "moderator"


async def test_bell_subscribers_of_a_private_account_only_hear_what_they_may_see(client):
    bob, fan, friend = await users(client, "bob", "fan", "friend")
    assert (await bob.patch(f"{API}/users/me", json={"is_private": True})).status_code == 200
    await friend.post(f"{API}/users/bob/follow")
    assert (await bob.post(f"{API}/users/me/follow-requests/friend/accept")).status_code == 204
    for who in (fan, friend):
        assert (await who.post(f"{API}/notifications/subscriptions/bob")).status_code in (200, 201)
    await bob.publish("a public post from a private account")
    assert await notifications(fan, "new_post") == []
    assert len(await notifications(friend, "new_post")) == 1


async def test_mentions_only_notify_who_can_see_the_post(client):
    bob, carol, dave = await users(client, "bob", "carol", "dave")
    await dave.follow(bob)
    await bob.publish("hey @carol and @dave, followers only", "followers")
    assert await notifications(carol, "mention") == []  # carol cannot open it
    assert len(await notifications(dave, "mention")) == 1
    await bob.publish("private note to @carol", "private")
    assert len(await notifications(carol, "mention")) == 1  # mentioned in a private post: may see it
    # A comment mention on a post the mentioned user cannot see notifies nobody either.
    followers_post = await bob.publish("for followers", "followers")
    res = await dave.post(f"{API}/posts/{followers_post['id']}/comments", json={"text": "look @carol"})
    assert res.status_code == 201, res.text
    assert len(await notifications(carol, "mention")) == 1


async def test_a_suspended_users_posts_are_not_readable(client):
    bob, alice = await users(client, "bob", "alice")
    root = await signup(client, "root", role="admin")
    post = await bob.publish("soon suspended")
    assert (await alice.get(f"{API}/posts/{post['id']}")).status_code == 200
    res = await root.post(f"{API}/admin/users/{bob.id}/suspend", json={"reason": "spam"})
    assert res.status_code in (200, 204), res.text
    assert (await alice.get(f"{API}/posts/{post['id']}")).status_code == 404
    assert (await client.get(f"{API}/posts/{post['id']}")).status_code == 404
    public = (await client.get(f"{API}/feeds/public")).json()["items"]
    assert post["id"] not in [p["id"] for p in public]
