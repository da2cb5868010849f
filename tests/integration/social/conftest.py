"""Social tests end only after the outbox relay published what they wrote.

Shutting the app down while the relay is in the middle of a batch can stall its cancellation (seen
as a 30 s lifespan timeout); waiting for the outbox to drain keeps each test's teardown clean.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest


@pytest.fixture(autouse=True)
async def outbox_drained(client: object) -> AsyncIterator[None]:
    """Every social test talks to the app; this is set up after ``client``, so torn down before it."""
    yield
    from server.social import sql

    for _ in range(200):
        if not await sql.fetchval("SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL)"):
            return
        await asyncio.sleep(0.05)
