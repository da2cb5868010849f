"""The Stripe webhook inbox (``stripe_events``): store an event once, lock it unprocessed, record its outcome."""

from __future__ import annotations

from typing import Any

import asyncpg

from server import sql


async def store_event(event_id: str, type_: str, created: int, payload: str) -> Any:
    """Insert a delivered event once; ``True`` if it is new, ``None`` if it was already stored."""
    return await sql.fetchval(
        "INSERT INTO stripe_events (id, type, created, payload, received_at, outcome) "
        "VALUES ($1, $2, $3, $4::jsonb, now(), '') ON CONFLICT (id) DO NOTHING RETURNING true",
        event_id,
        type_,
        created,
        payload,
    )


async def lock_unprocessed_event(event_id: str) -> asyncpg.Record | None:
    """The stored event if not yet processed, locked ``FOR UPDATE`` until the caller's transaction ends."""
    return await sql.fetchrow("SELECT * FROM stripe_events WHERE id = $1 AND processed_at IS NULL FOR UPDATE", event_id)


async def mark_event_processed(event_id: str, outcome: str) -> None:
    """Record that the event was applied, with its outcome."""
    await sql.execute("UPDATE stripe_events SET processed_at = now(), outcome = $2 WHERE id = $1", event_id, outcome)
