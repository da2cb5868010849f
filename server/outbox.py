"""Write realtime events into the transactional outbox.

Call ``emit`` inside the transaction that makes the change (Piccolo's ``async with
engine.transaction()``): the event row commits or rolls back with it. A relay (``server.realtime``)
publishes committed rows to the broker in commit order, woken by ``NOTIFY outbox``.

Ordering: before inserting, ``emit`` takes a transaction-scoped advisory lock (``EMIT_LOCK``), held until
the transaction ends. Outbox ids are therefore assigned in commit order, and the relay can publish by id
without ever publishing id 5 before a still-running transaction commits id 4. The price: emitting
transactions serialize from their first ``emit`` to their commit, so emit as the LAST step of a
transaction (and several events at once with ``emit_many``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from models.outbox import OutboxEvent

NOTIFY_CHANNEL = "outbox"
# (class, key) of the two-int advisory lock space, apart from the one-bigint locks (migrations, relay).
EMIT_LOCK = (0x5F10, 1)  # = (24336, 1), written out in the SQL below
# The lock is a FROM item of the INSERT, so it is taken before any id is drawn from the sequence.
_EMIT_ONE = (
    "WITH ins AS (INSERT INTO outbox_events (channel, event, data, created_at) "
    "SELECT {}, {}, {}::jsonb, now() FROM (SELECT pg_advisory_xact_lock(24336, 1)) AS emit_lock "
    "RETURNING id) SELECT pg_notify({}, '')"
)
_EMIT_MANY = (
    "WITH ins AS (INSERT INTO outbox_events (channel, event, data, created_at) "
    "SELECT c, e, d::jsonb, now() FROM (SELECT pg_advisory_xact_lock(24336, 1)) AS emit_lock, "
    "unnest({}::text[], {}::text[], {}::text[]) WITH ORDINALITY AS t(c, e, d, n) ORDER BY n RETURNING id) "
    "SELECT pg_notify({}, '')"
)


async def emit(channel: str, event: str, data: Any) -> None:
    """Queue ``event`` with ``data`` (anything msgspec encodes) for ``channel``, in the current transaction."""
    payload = msgspec.json.encode(data).decode()
    await OutboxEvent.raw(_EMIT_ONE, channel, event, payload, NOTIFY_CHANNEL)


async def emit_many(events: list[tuple[str, str, Any]]) -> None:
    """``emit`` for many ``(channel, event, data)`` at once, in one statement."""
    if not events:
        return
    channels = [c for c, _, _ in events]
    names = [e for _, e, _ in events]
    payloads = [msgspec.json.encode(d).decode() for _, _, d in events]
    await OutboxEvent.raw(_EMIT_MANY, channels, names, payloads, NOTIFY_CHANNEL)
