"""Read replicas against a real streaming standby: read-your-writes, a paused (lagging) replica, a lost one.

The standby is a ``pg_basebackup`` of the test primary (``tests/support/pg_replica.py``), replaying its
WAL. Pausing replay (``pg_wal_replay_pause()``) makes it lag for as long as a test needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.integration.social.helpers import Actor, ids, users
from tests.support.accounts import app_with
from tests.support.asgi import in_process_client
from tests.support.pg_replica import StreamingReplica

API = "/api/v1"


@pytest.fixture(scope="module")
def replica(services: dict[str, str]) -> Iterator[StreamingReplica]:
    standby = StreamingReplica(services["database_url"])
    standby.create()
    try:
        yield standby
    finally:
        standby.destroy()


async def _client(settings: Any, replica: StreamingReplica, max_lag: float) -> AsyncIterator[Any]:
    app = app_with(settings, **{"database.replica_urls": (replica.url,), "database.replica_max_lag": max_lag})
    _running.append(app.state["replicas"])  # the replica set the app's composition root built
    try:
        async with in_process_client(app) as c:
            yield c
    finally:
        _running.pop()


# The replica set of the app under test (one at a time), for the helpers below.
_running: list[Any] = []


@pytest.fixture
async def client(clean_db: None, redis_client: object, replica: StreamingReplica, settings: Any) -> AsyncIterator[Any]:
    async for c in _client(settings, replica, max_lag=600.0):
        yield c


def _set() -> Any:
    rs = _running[-1]
    assert rs is not None
    return rs


async def _caught_up() -> None:
    """Until the replica has replayed everything the primary has written (as the app's poll sees it)."""
    rs = _set()
    for _ in range(600):
        await rs.refresh()
        if all(r.up and r.lag == 0 for r in rs.replicas):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"replica never caught up: {[(r.up, r.lag) for r in rs.replicas]}")


async def _posts_of(reader: Actor | Any, author: Actor) -> list[str]:
    res = await reader.get(f"{API}/users/{author.username}/posts")
    assert res.status_code == 200, res.text
    return ids(res.json()["items"])


async def test_writer_reads_own_post_at_once_while_others_read_the_paused_replica(client, replica):
    alice, bob = await users(client, "alice", "bob")
    await bob.follow(alice)
    assert await bob.feed(f"{API}/feeds/home") == []  # bob's timeline is warm before the post
    await _caught_up()
    await replica.pause()
    try:
        post = (await alice.publish("hello from the primary"))["id"]
        # The writer: her profile, her home feed and the public feed come from the primary.
        assert await _posts_of(alice, alice) == [post]
        assert ids(await alice.feed(f"{API}/feeds/home")) == [post]
        assert ids(await alice.feed(f"{API}/feeds/public")) == [post]
        # Everyone else reads the paused replica: alice's posts are not there yet.
        assert await _posts_of(bob, alice) == []
        assert ids(await bob.feed(f"{API}/feeds/home")) == []  # the id was pushed, the row is not replayed
        assert ids((await client.get(f"{API}/feeds/public")).json()["items"]) == []
        profile = await client.get(f"{API}/users/alice")
        assert profile.status_code == 200 and profile.json()["posts_count"] == 0
    finally:
        await replica.resume()
    await _caught_up()
    assert await _posts_of(bob, alice) == [post]
    assert ids(await bob.feed(f"{API}/feeds/home")) == [post]
    assert ids((await client.get(f"{API}/feeds/public")).json()["items"]) == [post]


async def test_a_new_account_reads_itself_before_the_replica_has_it(client, replica):
    await _caught_up()
    await replica.pause()
    try:
        res = await client.post(
            f"{API}/auth/register", json={"username": "carol", "email": "c@example.com", "password": "correct horse 1"}
        )
        assert res.status_code == 201, res.text
        tokens = (await client.post(f"{API}/auth/login", json={"login": "carol", "password": "correct horse 1"})).json()
        carol = Actor(client, "carol", res.json()["id"], tokens["access_token"])
        # Signing in records the primary's position: carol's own profile is there, not a 404 from the replica.
        assert (await carol.get(f"{API}/users/carol")).status_code == 200
        assert (await client.get(f"{API}/users/carol")).status_code == 404  # anonymous: the replica lacks her
    finally:
        await replica.resume()
    await _caught_up()
    assert (await client.get(f"{API}/users/carol")).status_code == 200


async def test_a_replica_lagging_past_the_bound_is_skipped(clean_db, redis_client, replica, settings):
    async for c in _client(settings, replica, max_lag=0.05):
        alice, bob = await users(c, "alice", "bob")
        await _caught_up()
        await replica.pause()
        try:
            post = (await alice.publish("written while the replica is paused"))["id"]
            rs = _set()
            while not all(r.lag > rs.max_lag for r in rs.replicas):  # until the poll sees it behind
                await asyncio.sleep(0.05)
                await rs.refresh()
            # Behind by more than the bound: bob's reads go to the primary and see the post.
            assert await _posts_of(bob, alice) == [post]
        finally:
            await replica.resume()


async def test_a_replica_that_goes_down_is_skipped_without_an_error(client, replica):
    alice, bob = await users(client, "alice", "bob")
    post = (await alice.publish("still readable"))["id"]
    await _caught_up()
    assert await _posts_of(bob, alice) == [post]  # from the replica (its pool now holds a connection)
    replica.stop()
    try:
        # The pooled connection is dead and the poll has not noticed yet: the read falls back to the primary.
        assert await _posts_of(bob, alice) == [post]
        assert not _set().replicas[0].up
        await _set().refresh()
        assert await _posts_of(bob, alice) == [post]
    finally:
        replica.start()
    await _caught_up()
    assert await _posts_of(bob, alice) == [post]


def _routed(target: str, reason: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value("socialflow_db_replica_reads_total", {"target": target, "reason": reason})
    return value or 0.0


async def test_metrics_say_where_reads_went_and_how_far_behind_the_replica_is(client, replica):
    from prometheus_client import REGISTRY

    alice, bob = await users(client, "alice", "bob")
    await _caught_up()
    assert REGISTRY.get_sample_value("socialflow_db_replica_lag_seconds", {"replica": _set().replicas[0].name}) == 0
    to_replica, written = _routed("replica", "fit"), _routed("primary", "written")
    await _posts_of(bob, alice)
    assert _routed("replica", "fit") == to_replica + 1
    await replica.pause()
    try:
        await alice.publish("read back from the primary")
        await _posts_of(alice, alice)
        assert _routed("primary", "written") == written + 1
        assert _routed("replica", "fit") == to_replica + 1
    finally:
        await replica.resume()
    await _caught_up()
    fallback = _routed("primary", "fallback")
    replica.stop()
    try:
        assert len(await _posts_of(bob, alice)) == 1  # the pooled connection is dead: the read falls back
        assert _routed("primary", "fallback") > fallback
        await _set().refresh()
        unavailable = _routed("primary", "unavailable")
        await _posts_of(bob, alice)
        assert _routed("primary", "unavailable") == unavailable + 1
        lag = REGISTRY.get_sample_value("socialflow_db_replica_lag_seconds", {"replica": _set().replicas[0].name})
        assert lag == float("inf")
    finally:
        replica.start()
    await _caught_up()
