"""Stopping the outbox relay in the middle of a batch: it stops at once and no committed event is lost or doubled."""

from __future__ import annotations

import asyncio

import pytest

from channels.memory import MemoryBroker
from channels.protocol import Position
from models.accounts import User
from server import db
from server.outbox import emit_many
from server.realtime.kinds import HISTORY
from server.realtime.relay import Relay
from tests.support.asgi import running
from tests.support.brokers import redis_broker

CHANNELS = [f"user:{k}" for k in range(1, 11)]  # 10 x 200 events: each channel's history keeps all of its own
PER_CHANNEL = 200
# Far above a normal stop (milliseconds); a relay whose cancellation was swallowed never stops at all.
HANG = 10.0


async def _emit_batch() -> None:
    async with User._meta.db.transaction():
        await emit_many([(c, "notification.created", {"n": n}) for n in range(PER_CHANNEL) for c in CHANNELS])


async def _unpublished() -> int:
    rows = await User.raw("SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL")
    return int(rows[0]["n"])


async def _finish_with_a_new_relay(broker) -> None:  # type: ignore[no-untyped-def]
    relay = Relay(db.engine().config["dsn"], broker, poll=30.0)
    relay.start()
    try:
        for _ in range(2000):
            if await _unpublished() == 0:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the next relay did not publish the rest")
    finally:
        await asyncio.wait_for(relay.stop(), HANG)


async def _assert_each_event_once(broker) -> None:  # type: ignore[no-untyped-def]
    for channel in CHANNELS:
        pos = await broker.position(channel)
        assert pos.offset == PER_CHANNEL, f"{channel}: {pos.offset} publications for {PER_CHANNEL} events"
        history = await broker.history(channel, Position(0, pos.epoch))
        assert history.recovered
        assert [p.data for p in history.publications] == [b'{"n": %d}' % n for n in range(PER_CHANNEL)]


@pytest.fixture(params=["memory", "redis"])
async def broker(request, clean_db, redis_client, services):  # type: ignore[no-untyped-def]
    b, client = (
        (MemoryBroker(HISTORY), None) if request.param == "memory" else redis_broker(services["redis_url"], HISTORY)
    )
    await b.start()
    yield b
    await b.close()
    if client is not None:
        await client.aclose()


async def test_a_relay_stopped_mid_batch_stops_at_once_and_the_next_one_publishes_the_rest(broker):
    await db.start_pool()
    try:
        await _emit_batch()
        relay = Relay(db.engine().config["dsn"], broker, poll=30.0)
        stopping: asyncio.Future[asyncio.Task[None]] = asyncio.get_running_loop().create_future()

        def stop_after_a_hundred(outbox_id: int) -> None:
            if relay.published == 100:  # a shutdown that lands while the relay is publishing
                stopping.set_result(asyncio.get_running_loop().create_task(relay.stop()))

        relay.after_publish = stop_after_a_hundred
        relay.start()
        try:
            # A hang guard, not a timing check. It used to be a loop of 2,000 x 1 ms, which gave up on a busy
            # machine with no stop in finally: this relay ran on, holding the relay lock for every later relay
            # of the process (test_outbox's "the relay did not publish in time").
            await asyncio.wait([stopping], timeout=120)
            state = f"active={relay.active} published={relay.published} last_error={relay.last_error}"
            assert stopping.done(), f"the relay never published 100 events: {state}"
            await asyncio.wait_for(stopping.result(), HANG)
        finally:
            await relay.stop()  # a no-op once stopped
        assert relay.published < len(CHANNELS) * PER_CHANNEL  # it really was stopped mid-batch
        await _finish_with_a_new_relay(broker)
        await _assert_each_event_once(broker)
    finally:
        await db.close_pool()


async def test_app_shutdown_right_after_a_big_commit_is_prompt_and_loses_nothing(app, services):
    """The app (Redis broker) shuts down while its relay publishes 2,000 events; the next start publishes the rest."""
    async with running(app, timeout=HANG):
        relay = app.state.realtime.relay  # type: ignore[attr-defined]
        mid_batch = asyncio.Event()
        relay.after_publish = lambda outbox_id: relay.published == 100 and mid_batch.set()
        await _emit_batch()
        await mid_batch.wait()  # shut down while the relay is publishing
    await db.start_pool()
    broker, client = redis_broker(services["redis_url"], HISTORY)
    await broker.start()
    try:
        await _finish_with_a_new_relay(broker)
        await _assert_each_event_once(broker)
    finally:
        await broker.close()
        await client.aclose()
        await db.close_pool()
