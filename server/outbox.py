"""Write realtime events into the transactional outbox.

Call ``emit`` inside the transaction that makes the change (Piccolo's ``async with
engine.transaction()``): the event row commits or rolls back with it. A relay (``server.realtime``)
publishes committed rows to the broker in commit order, woken by ``NOTIFY outbox``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from models.outbox import OutboxEvent

NOTIFY_CHANNEL = "outbox"


async def emit(channel: str, event: str, data: Any) -> None:
    """Queue ``event`` with ``data`` (anything msgspec encodes) for ``channel``, in the current transaction."""
    payload = msgspec.json.encode(data).decode()
    await OutboxEvent.raw(
        "WITH ins AS (INSERT INTO outbox_events (channel, event, data, created_at) "
        "VALUES ({}, {}, {}::jsonb, now()) RETURNING id) SELECT pg_notify({}, '')",
        channel,
        event,
        payload,
        NOTIFY_CHANNEL,
    )


async def emit_many(events: list[tuple[str, str, Any]]) -> None:
    """``emit`` for many ``(channel, event, data)`` at once, in one statement."""
    if not events:
        return
    channels = [c for c, _, _ in events]
    names = [e for _, e, _ in events]
    payloads = [msgspec.json.encode(d).decode() for _, _, d in events]
    await OutboxEvent.raw(
        "WITH ins AS (INSERT INTO outbox_events (channel, event, data, created_at) "
        "SELECT c, e, d::jsonb, now() FROM unnest({}::text[], {}::text[], {}::text[]) AS t(c, e, d) RETURNING id) "
        "SELECT pg_notify({}, '')",
        channels,
        names,
        payloads,
        NOTIFY_CHANNEL,
    )
