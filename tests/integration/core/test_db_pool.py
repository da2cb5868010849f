"""Two nodes serving in one process share Piccolo's one pool: the first to stop leaves it to the other."""

from __future__ import annotations

from typing import Any


async def test_a_second_node_shares_the_pool_and_its_stop_leaves_it_open(database: None, settings: Any) -> None:
    from server import db, sql

    await db.start_pool(settings.database)  # the first node
    try:
        pool = db.engine().pool
        assert pool is not None
        await db.start_pool(settings.database)  # a second node (a test's second app), same process
        assert db.engine().pool is pool  # joined, not a second pool (nor Piccolo's "A pool already exists")
        await db.close_pool()  # the second node stops
        # Before: this closed the pool under the first node, which went on without one.
        assert db.engine().pool is pool and not pool.is_closing()
        assert await sql.fetchval("SELECT 1") == 1
    finally:
        await db.close_pool()  # the first node stops: the last user closes it
    assert pool.is_closing()
