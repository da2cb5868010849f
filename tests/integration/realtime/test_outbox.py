"""The transactional outbox: rollback emits nothing, commit order is publish order, each event once."""

from __future__ import annotations

import asyncio

import pytest

from channels.memory import MemoryBroker
from channels.protocol import Position
from models.accounts import User
from server import db
from server.outbox import emit, emit_many
from server.realtime.kinds import HISTORY
from server.realtime.relay import Relay
from tests.support.brokers import redis_broker


@pytest.fixture(params=["memory", "redis"])
async def relay_broker(request, clean_db, redis_client, services):
    b, client = (
        (MemoryBroker(HISTORY), None) if request.param == "memory" else redis_broker(services["redis_url"], HISTORY)
    )
    await b.start()
    yield b
    await b.close()
    if client is not None:
        await client.aclose()


async def published(broker, channel):
    pos = await broker.position(channel)
    history = await broker.history(channel, Position(0, pos.epoch))
    assert history.recovered
    return [p.data for p in history.publications]


async def all_marked():
    rows = await User.raw("SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL")
    return rows[0]["n"] == 0


async def why_not(relay: Relay) -> str:
    """What a relay that did not publish was doing: active or standing by, its last error, who holds the lock."""
    import asyncpg

    conn = await asyncpg.connect(db.engine().config["dsn"])
    try:
        holder = await Relay.lock_holder(conn)
        left = await conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
    finally:
        await conn.close()
    state = f"active={relay.active} backend_pid={relay.backend_pid} published={relay.published}"
    # lock_holder's pid against backend_pid: another relay holds the lock, or this one does and is stuck.
    return f"{state} last_error={relay.last_error} lock_holder={holder} unpublished={left}"


DEADLINE = 60.0  # a hang guard for what must happen eventually, never a timing check


async def eventually(check, relay: Relay) -> None:
    """Wait until ``await check()`` holds; after ``DEADLINE`` fail with what the relay was doing."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + DEADLINE
    while not await check():
        if loop.time() > give_up:
            raise AssertionError(f"gave up waiting: {await why_not(relay)}")
        await asyncio.sleep(0.02)


async def terminate_relay_backends(pid: int | None = None) -> list[int]:
    """``pg_terminate_backend`` on this database's ``outbox-relay`` connections (only ``pid``, if given), as an
    operator or a PostgreSQL restart would end them; returns the pids ended, once each has exited."""
    import asyncpg

    from server.realtime.relay import APPLICATION_NAME

    conn = await asyncpg.connect(db.engine().config["dsn"])
    try:
        pids = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() "
            "AND ($2::int IS NULL OR pid = $2)",
            APPLICATION_NAME,
            pid,
        )
        # One by one, after the selection: in one statement the planner may call it on rows before filtering.
        ended = [r["pid"] for r in pids if await conn.fetchval("SELECT pg_terminate_backend($1, 60000)", r["pid"])]
    finally:
        await conn.close()
    return sorted(ended)


async def run_relay(broker, until):
    """Run one relay until ``until()`` holds (woken by NOTIFY), then stop it."""
    relay = Relay(db.engine().config["dsn"], broker, poll=30.0)
    relay.start()
    loop = asyncio.get_running_loop()
    give_up = loop.time() + DEADLINE  # a hang guard (it was 1,000 x 10 ms: ~10 s, a timing check under load)
    try:
        while not await until():
            if loop.time() > give_up:
                raise AssertionError(f"the relay did not publish in time: {await why_not(relay)}")
            await asyncio.sleep(0.01)
        return relay
    finally:
        await relay.stop()


async def test_rollback_emits_nothing_and_commit_publishes_in_order(relay_broker):
    await db.start_pool()
    try:
        with pytest.raises(RuntimeError):
            async with User._meta.db.transaction():
                await emit("timeline:public", "post.created", {"id": "rolled-back"})
                raise RuntimeError("the change failed")
        async with User._meta.db.transaction():
            await emit("timeline:public", "post.created", {"id": "1"})
            await emit_many(
                [("timeline:public", "post.created", {"id": "2"}), ("user:5", "notification.created", {"id": "n"})]
            )
        async with User._meta.db.transaction():
            await emit("timeline:public", "post.deleted", {"id": "1"})

        await run_relay(relay_broker, all_marked)
        assert await published(relay_broker, "timeline:public") == [
            b'{"id": "1"}',
            b'{"id": "2"}',
            b'{"id": "1"}',
        ]
        assert await published(relay_broker, "user:5") == [b'{"id": "n"}']
    finally:
        await db.close_pool()


async def test_a_relay_that_dies_mid_batch_publishes_each_event_once_after_restart(relay_broker):
    await db.start_pool()
    try:
        async with User._meta.db.transaction():
            await emit_many([("hashtag:cats", "post.created", {"n": n}) for n in range(10)])

        class Crash(Exception):
            pass

        relay = Relay(db.engine().config["dsn"], relay_broker, poll=30.0)
        stopping: asyncio.Future[asyncio.Task[None]] = asyncio.get_running_loop().create_future()

        def crash_after_four(outbox_id: int) -> None:
            if relay.published == 4:
                # Stopped as it dies: otherwise it reconnects a second later and publishes the rest, before this
                # test (polling, on a busy machine) got round to stopping it.
                stopping.set_result(asyncio.get_running_loop().create_task(relay.stop()))
                raise Crash  # dies after publishing 4, before marking any of the batch published

        relay.after_publish = crash_after_four
        relay.start()
        try:
            await asyncio.wait([stopping], timeout=120)  # a hang guard, not a timing check
            assert stopping.done(), f"the relay never published 4 events: {await why_not(relay)}"
            await stopping.result()
        finally:
            await relay.stop()  # never left running: it would hold the relay lock for every later test
        assert len(await published(relay_broker, "hashtag:cats")) == 4
        left = await User.raw("SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL")
        assert left[0]["n"] == 10  # nothing was marked: the restart sees the whole batch again

        await run_relay(relay_broker, all_marked)
        assert await published(relay_broker, "hashtag:cats") == [b'{"n": %d}' % n for n in range(10)]
    finally:
        await db.close_pool()


async def test_concurrent_transactions_publish_in_commit_order(relay_broker):
    """The second transaction emits after the first drew its id but commits first: commit order wins."""
    await db.start_pool()
    try:
        first_emitted = asyncio.Event()
        commits: list[str] = []

        async def slow() -> None:
            async with User._meta.db.transaction():
                await emit("post:1", "post.stats", {"tx": "slow"})
                first_emitted.set()
                await asyncio.sleep(0.2)  # still open while the other transaction tries to emit and commit
            commits.append("slow")

        async def fast() -> None:
            await first_emitted.wait()
            async with User._meta.db.transaction():
                await emit("post:1", "post.stats", {"tx": "fast"})
            commits.append("fast")

        await asyncio.gather(slow(), fast())

        await run_relay(relay_broker, all_marked)
        order = [b'{"tx": "%s"}' % tx.encode() for tx in commits]
        assert await published(relay_broker, "post:1") == order
    finally:
        await db.close_pool()


async def test_only_one_relay_is_active_and_another_takes_over(relay_broker):
    await db.start_pool()
    try:
        dsn = db.engine().config["dsn"]
        a = Relay(dsn, relay_broker, poll=30.0, standby_retry=0.05)
        b = Relay(dsn, relay_broker, poll=30.0, standby_retry=0.05)
        try:
            a.start()
            for _ in range(500):
                if a.active:
                    break
                await asyncio.sleep(0.01)
            b.start()
            await asyncio.sleep(0.2)
            assert a.active and not b.active, (await why_not(a), await why_not(b))
            await a.stop()
            for _ in range(500):
                if b.active:
                    break
                await asyncio.sleep(0.01)
            assert b.active, await why_not(b)
            async with User._meta.db.transaction():
                await emit("user:9", "notification.created", {"id": "after-takeover"})
            for _ in range(500):
                if await published(relay_broker, "user:9"):
                    break
                await asyncio.sleep(0.01)
            assert await published(relay_broker, "user:9") == [b'{"id": "after-takeover"}']
        finally:
            # Both stopped whatever failed: a relay left running holds the lock, and every later relay of
            # this test process (the next tests', their apps') would stand by behind it.
            await a.stop()
            await b.stop()
    finally:
        await db.close_pool()


async def test_an_open_emitting_transaction_blocks_no_other_emitter(relay_broker):
    """Finding 8: no global serial section. Another channel, or even the same one, emits and commits meanwhile."""
    await db.start_pool()
    try:
        emitted, others_done = asyncio.Event(), asyncio.Event()

        async def long_open() -> None:
            async with User._meta.db.transaction():
                await emit("post:1", "post.stats", {"tx": "long"})
                emitted.set()
                await asyncio.wait_for(others_done.wait(), 20)  # before the fix: the others wait for us

        async def others() -> None:
            await emitted.wait()
            for channel in ("post:2", "post:1"):
                async with User._meta.db.transaction():
                    await emit(channel, "post.stats", {"tx": f"other-{channel}"})
            others_done.set()

        await asyncio.wait_for(asyncio.gather(long_open(), others()), 30)
        await run_relay(relay_broker, all_marked)
        # Commit order per channel: the short transaction on post:1 committed first.
        assert await published(relay_broker, "post:1") == [b'{"tx": "other-post:1"}', b'{"tx": "long"}']
    finally:
        await db.close_pool()


async def test_many_concurrent_writers_publish_each_channel_in_commit_order(relay_broker):
    import random

    await db.start_pool()
    try:
        owner = User(username="clock", email="c@example.com", email_normalized="c@example.com", password_hash="!")
        await owner.save()
        commit_rank: dict[int, int] = {}

        async def writer(n: int) -> None:
            await asyncio.sleep(random.random() * 0.05)
            async with User._meta.db.transaction():
                await emit("post:7", "post.stats", {"n": n})
                await emit(f"user:{n}", "notification.created", {"n": n})
                await asyncio.sleep(random.random() * 0.05)
                # A row lock held to commit: the value each writer gets is its commit rank.
                rows = await User.raw(
                    "UPDATE users SET posts_count = posts_count + 1 WHERE id = {} RETURNING posts_count", owner.id
                )
                commit_rank[n] = rows[0]["posts_count"]

        await asyncio.gather(*(writer(n) for n in range(24)))
        await run_relay(relay_broker, all_marked)
        expected = [b'{"n": %d}' % n for n in sorted(commit_rank, key=commit_rank.__getitem__)]
        assert await published(relay_broker, "post:7") == expected
    finally:
        await db.close_pool()


async def test_a_relay_whose_connection_is_killed_reconnects_and_publishes_what_comes_next(relay_broker):
    """No poll (an hour): only the connection's end can wake the relay, and the NOTIFY of the event emitted
    meanwhile went to no one. It reconnects, takes the lock again and drains what it missed."""
    await db.start_pool()
    try:
        relay = Relay(db.engine().config["dsn"], relay_broker, poll=3600.0)
        relay.start()
        try:
            await eventually(lambda: _true(relay.active), relay)
            killed = relay.backend_pid
            assert await terminate_relay_backends() == [killed]
            async with User._meta.db.transaction():
                await emit("user:3", "notification.created", {"id": "after-the-kill"})
            await eventually(all_marked, relay)
            assert await published(relay_broker, "user:3") == [b'{"id": "after-the-kill"}']
            assert relay.active and relay.backend_pid not in (None, killed), await why_not(relay)
        finally:
            await relay.stop()
    finally:
        await db.close_pool()


async def _true(value: object) -> bool:
    return bool(value)


async def test_a_batch_cut_by_its_time_budget_publishes_every_event_once_in_order(relay_broker, monkeypatch):
    """With no time budget each batch publishes one row, marks it and goes on: nothing skipped or doubled."""
    from server.realtime import relay as relay_module

    monkeypatch.setattr(relay_module, "BATCH_BUDGET", 0.0)
    await db.start_pool()
    try:
        async with User._meta.db.transaction():
            await emit_many([("hashtag:dogs", "post.created", {"n": n}) for n in range(20)])
        relay = await run_relay(relay_broker, all_marked)
        assert await published(relay_broker, "hashtag:dogs") == [b'{"n": %d}' % n for n in range(20)]
        assert relay.published == 20
    finally:
        await db.close_pool()


async def test_a_relay_statement_stuck_on_a_lock_is_bounded_and_reported_then_the_relay_goes_on(relay_broker):
    """A transaction holds the outbox rows' locks: the relay's mark would wait forever. It gives up after its
    query timeout (reporting why), drops its connection and retries; once the lock goes, everything is marked
    and each event was published once."""
    import asyncpg

    await db.start_pool()
    try:
        async with User._meta.db.transaction():
            await emit_many([("user:4", "notification.created", {"n": n}) for n in range(3)])
        blocker = await asyncpg.connect(db.engine().config["dsn"])
        try:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("SELECT id FROM outbox_events FOR UPDATE")
            relay = Relay(db.engine().config["dsn"], relay_broker, poll=3600.0, query_timeout=0.5)
            relay.start()
            try:
                await eventually(lambda: _true(relay.last_error and "timeout" in relay.last_error), relay)
                assert not await all_marked()
                await tx.rollback()
                await eventually(all_marked, relay)
            finally:
                await relay.stop()
        finally:
            await blocker.close()
        assert await published(relay_broker, "user:4") == [b'{"n": %d}' % n for n in range(3)]
    finally:
        await db.close_pool()
