"""Finding 9: subscribing to channels nobody publishes on leaves no lasting state (memory or Redis)."""

from __future__ import annotations

import asyncio

import pytest

from channels.broker import META_TTL, HistoryPolicy


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_reads_of_quiet_channels_leave_state_that_expires_with_their_history(kind, redis_client, services):
    from channels.memory import MemoryBroker
    from tests.support.brokers import redis_broker

    history = {"hashtag": HistoryPolicy(50, 1)}
    broker, client = (MemoryBroker(history), None) if kind == "memory" else redis_broker(services["redis_url"], history)
    await broker.start()
    try:
        positions = [await broker.position(f"hashtag:random{i}") for i in range(200)]
        assert all(p.offset == 0 for p in positions)
        # A channel that was published on keeps its epoch for the long meta TTL, as recovery needs.
        published = await broker.publish("hashtag:busy", "post.created", b"{}")
        if kind == "redis":
            quiet_ttl = await redis_client.ttl("sf:rt:{hashtag:random7}:m")
            busy_ttl = await redis_client.ttl("sf:rt:{hashtag:busy}:m")
            assert 0 < quiet_ttl <= 1, quiet_ttl
            assert busy_ttl > 3600, busy_ttl
        await asyncio.sleep(1.6)
        await broker.publish("hashtag:other", "post.created", b"{}")  # any later use sweeps what expired
        if kind == "redis":
            left = [k async for k in redis_client.scan_iter(match="sf:rt:{hashtag:random*")]
            assert left == []
        else:
            assert not any(name.startswith("hashtag:random") for name in broker._streams), len(broker._streams)
        assert (await broker.position("hashtag:busy")).epoch == published.epoch
    finally:
        await broker.close()
        if client is not None:
            await client.aclose()


def test_meta_ttl_still_covers_a_week_for_published_channels():
    assert META_TTL >= 7 * 24 * 3600
