"""A burst of concurrent commands on the Redis broker waits for a connection instead of failing."""

from __future__ import annotations

import asyncio

from server.realtime.kinds import HISTORY
from tests.support.brokers import redis_broker


async def test_a_thousand_sockets_subscribing_at_once_all_get_their_position(redis_client, services):
    """Each subscribe reads the channel's history; redis-py's default pool failed the 101st at once."""
    broker, client = redis_broker(services["redis_url"], HISTORY)
    await broker.start()
    try:
        await broker.publish("timeline:public", "post.created", b'{"id": "1"}')
        positions = await asyncio.gather(*(broker.position("timeline:public") for _ in range(1000)))
        assert {p.offset for p in positions} == {1}
    finally:
        await broker.close()
        await client.aclose()
