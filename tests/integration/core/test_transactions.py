"""Transactions give their connection back whatever cancels them, so app shutdown never hangs on the pool."""

from __future__ import annotations

import asyncio
import random


async def test_cancelled_transactions_never_keep_a_pooled_connection(database: None, services: dict[str, str]):
    # A shutdown cancels tasks more than once; a cancellation landing in BEGIN or in the ROLLBACK that
    # follows the first one used to leave the connection borrowed for ever, and pool.close() then hung.
    from piccolo_conf import Engine

    engine = Engine(config={"dsn": services["database_url"]})
    await engine.start_connection_pool(min_size=1, max_size=6)
    rng = random.Random(7)

    async def work() -> None:
        while True:
            async with engine.transaction() as tx:
                await tx.connection.execute("SELECT pg_sleep(0.001)")

    for _ in range(40):
        tasks = [asyncio.create_task(work()) for _ in range(6)]
        await asyncio.sleep(rng.random() * 0.01)
        for task in tasks:
            task.cancel()
        await asyncio.sleep(rng.random() * 0.002)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    pool = engine.pool
    assert pool is not None
    # Every connection is back: the pool closes (the old behaviour waited on a leaked one for ever).
    await asyncio.wait_for(pool.close(), 10)


async def test_a_task_cancelled_mid_redis_command_on_the_apps_client_ends(client, app):
    # redis-py 8 bounds each write with asyncio.wait_for when socket_timeout is set (5 s by default), and on
    # Python 3.11 wait_for swallows a cancellation that lands as the write completes: a background loop
    # cancelled at shutdown ran on and the lifespan shutdown hung (the teardown flake). The app's shared
    # client must keep every cancellation: 300 cancels at random points, each task ends.
    redis = app.state.redis
    rng = random.Random(11)

    async def loop() -> None:
        while True:
            await asyncio.sleep(0)
            await redis.spop("sf:test:dirty", 500)

    kept_running = 0
    for _ in range(300):
        task = asyncio.create_task(loop())
        await asyncio.sleep(rng.random() * 0.005)
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=2)
        if not done:
            kept_running += 1
            while not task.done():
                task.cancel()
                await asyncio.sleep(0.01)
    assert kept_running == 0
