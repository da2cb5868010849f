"""The home feed's first Redis round trip (session check, timeline, live position together): what a user sees."""

from __future__ import annotations

from channels.protocol import Position
from server.accounts.revocation import Revocations
from server.realtime import kinds
from tests.integration.social.helpers import ids, users

HOME = "/api/v1/feeds/home"


def _session_id(app, token: str) -> int:
    return app.state.access_tokens.verify(token)[1]


async def test_the_home_feed_reads_redis_in_one_batch_here(app):
    # Against the test Valkey (not a cluster): the batched path is the one the tests below exercise.
    assert app.state.home_read.batchable


async def test_logout_stops_the_home_feed_at_once(app, client):
    (alice,) = await users(client, "alice")
    assert (await alice.get(HOME)).status_code == 200
    assert (await alice.post("/api/v1/auth/logout")).status_code == 204
    res = await alice.get(HOME)
    assert res.status_code == 401
    assert res.json()["code"] == "unauthorized"


async def test_a_revocation_whose_signal_was_lost_still_stops_the_home_feed(app, client, redis_client):
    """Another node revoked the session and its pub/sub message never arrived: the per-request key check,
    sent with the timeline read, refuses the token although this node's cache said "active"."""
    alice, bob = await users(client, "alice", "bob")
    await alice.follow(bob)
    post = await bob.publish("hello")
    assert ids((await alice.get(HOME)).json()["items"]) == [post["id"]]  # session cached as active here
    await redis_client.set(Revocations.key(_session_id(app, alice.token)), 1, ex=900)
    res = await alice.get(HOME)
    assert res.status_code == 401
    assert "items" not in res.json()
    assert (await bob.get(HOME)).status_code == 200  # another session is untouched


async def test_first_page_carries_the_live_position_and_later_pages_none(app, client):
    alice, bob = await users(client, "alice", "bob")
    for i in range(3):  # before the follow: no live event for alice's channel, whose position stays put
        await bob.publish(f"post {i}")
    await alice.follow(bob)
    broker = app.state.realtime.broker
    channel = kinds.home(int(alice.id))
    first = (await alice.get(HOME, params={"limit": 2})).json()
    now = await broker.position(channel)
    assert first["position"] == {"offset": now.offset, "epoch": now.epoch}
    # A live event on the channel moves the position the next first page answers.
    await broker.publish(channel, "post.created", b"{}")
    again = (await alice.get(HOME, params={"limit": 2})).json()
    assert again["position"] == {"offset": now.offset + 1, "epoch": now.epoch}
    assert Position(**again["position"]) == await broker.position(channel)
    rest = (await alice.get(HOME, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert rest["position"] is None
    assert len(ids(first["items"]) + ids(rest["items"])) == 3


async def test_a_bad_cursor_is_422_and_no_token_401(client):
    (alice,) = await users(client, "alice")
    assert (await client.get(HOME, params={"cursor": "nope"})).status_code == 401
    res = await alice.get(HOME, params={"cursor": "nope"})
    assert res.status_code == 422
    assert res.json()["code"] == "validation_error"


async def test_the_home_feed_answers_after_its_redis_connection_is_killed(app, client, redis_client):
    """The read's shared connection dropped by Redis (restart, ``CLIENT KILL``, idle timeout): the reader
    who meets the dead connection is answered the slower way, and the next read opens a new one."""
    alice, bob = await users(client, "alice", "bob")
    await alice.follow(bob)
    post = await bob.publish("hello")
    assert ids((await alice.get(HOME)).json()["items"]) == [post["id"]]
    lane = app.state.home_read.lane
    (victim,) = await lane.execute([("CLIENT", "ID")])
    assert await redis_client.execute_command("CLIENT", "KILL", "ID", victim) == 1
    for _ in range(3):
        res = await alice.get(HOME)
        assert res.status_code == 200
        assert ids(res.json()["items"]) == [post["id"]]
    (now,) = await lane.execute([("CLIENT", "ID")])
    assert now != victim
