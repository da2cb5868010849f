"""The sampler's SQL: aggregates over the outbox and procrastinate's job table.

Raw: ``procrastinate_jobs`` has no Piccolo model, and both reads are aggregates (a count with the oldest
row's age; counts grouped by task and status) that the sampler runs every few seconds. Run through
``server.sql`` (outside a transaction, so a read replica may answer). No parameters.
"""

from __future__ import annotations

from typing import Any

from server import sql


async def outbox_backlog() -> Any:
    """``pending`` (unpublished outbox rows) and ``lag`` (seconds since the oldest of them was written)."""
    return await sql.fetchrow(
        "SELECT count(*) AS pending, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS lag "
        "FROM outbox_events WHERE published_at IS NULL"
    )


async def job_counts() -> list[Any]:
    """``task_name, status, n`` of jobs waiting, running or failed.

    procrastinate keeps failed jobs (successful ones are deleted), so these counts are small.
    """
    return await sql.fetch(
        "SELECT task_name, status::text AS status, count(*) AS n FROM procrastinate_jobs "
        "WHERE status IN ('todo', 'doing', 'failed') GROUP BY task_name, status"
    )
