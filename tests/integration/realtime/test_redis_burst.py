"""A burst of concurrent commands on the Redis broker waits for a connection instead of failing."""

from __future__ import annotations

import asyncio

import pytest

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


async def test_commands_queued_behind_an_unreachable_redis_fail_with_it_and_the_next_one_tries_again():
    """A burst larger than the broker's slots, on a port nobody listens on: every command fails; those that
    waited for a slot fail with the one that found Redis unreachable instead of trying in turn, and a command
    sent afterwards tries Redis again (nothing stays failed)."""
    from channels.broker import BrokerUnavailable
    from channels.redis import _CONCURRENCY
    from tests.support.smtp import free_port

    broker, client = redis_broker(f"redis://127.0.0.1:{free_port()}/0", HISTORY)  # not started: no reader
    try:
        results = await asyncio.gather(
            *(broker.position("timeline:public") for _ in range(2 * _CONCURRENCY)), return_exceptions=True
        )
        assert all(isinstance(r, BrokerUnavailable) for r in results), results
        waited = [r for r in results if "while this command waited" in str(r)]
        assert len(waited) == _CONCURRENCY  # the second half queued behind the first, which found it closed
        with pytest.raises(BrokerUnavailable) as later:
            await broker.position("timeline:public")
        assert "while this command waited" not in str(later.value)  # it tried Redis itself
    finally:
        await broker.close()
        await client.aclose()
