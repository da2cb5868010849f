"""The shared Redis connection of the home feed's read: every caller gets its own replies, whatever happens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import BlockingConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from server.redis_lane import RedisLane


@pytest.fixture
async def lane(redis_client: object, services: dict[str, str]) -> AsyncIterator[RedisLane]:
    pool = BlockingConnectionPool.from_url(services["redis_url"])
    lane = RedisLane(pool)
    yield lane
    await lane.close()
    await pool.aclose()


async def test_concurrent_callers_share_one_connection_and_each_gets_its_own_replies(lane, redis_client):
    for i in range(50):
        await redis_client.set(f"k{i}", f"v{i}")

    async def read(i: int) -> list[object]:
        return await lane.execute([("CLIENT", "ID"), ("GET", f"k{i}"), ("EXISTS", f"k{i}"), ("GET", "none")])

    got = await asyncio.gather(*(read(i) for i in range(50)))
    assert [g[1:] for g in got] == [[f"v{i}".encode(), 1, None] for i in range(50)]
    assert len({g[0] for g in got}) == 1  # one connection for all fifty


async def test_an_error_reply_raises_and_the_connection_stays_in_step(lane, redis_client):
    await redis_client.set("text", "abc")
    before = (await lane.execute([("CLIENT", "ID")]))[0]
    with pytest.raises(ResponseError):
        await lane.execute([("GET", "text"), ("INCR", "text"), ("GET", "text")])
    assert await lane.execute([("CLIENT", "ID"), ("GET", "text")]) == [before, b"abc"]


async def test_a_cancelled_caller_never_leaves_its_replies_to_the_next(lane, redis_client):
    await redis_client.set("k", "mine")
    first = (await lane.execute([("CLIENT", "ID")]))[0]
    # BLPOP holds this connection's replies back (5 s on the server); the caller gives up long before.
    slow = asyncio.create_task(lane.execute([("BLPOP", "nothing", "5")]))
    behind = asyncio.create_task(lane.execute([("GET", "k")]))  # sent after it, so answered after it
    while lane.pending < 2:  # both sent
        await asyncio.sleep(0.01)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    with pytest.raises(RedisConnectionError):  # failed, never handed the BLPOP's reply
        await behind
    again = await lane.execute([("CLIENT", "ID"), ("GET", "k")])
    assert again[1] == b"mine" and again[0] != first  # a new connection


async def test_a_closed_lane_refuses(lane):
    assert await lane.execute([("PING",)]) == [b"PONG"]
    await lane.close()
    with pytest.raises(RedisConnectionError):
        await lane.execute([("PING",)])
