"""Write realtime events into the transactional outbox.

Call ``emit`` inside the transaction that makes the change (``async with db.transaction():``): the
event row commits or rolls back with it. A relay (``server.realtime``)
publishes committed rows to the broker in commit order, woken by ``NOTIFY outbox``.

Ordering, per channel, is commit order, with no serial section while transactions do their work:
``emit`` just inserts. At COMMIT a deferred constraint trigger (migration 2026-11-30T04:10:38) takes the
advisory locks of the stripes (``hashtext(channel) & 63``) of the channels the transaction wrote, in one
sorted statement (so committers never deadlock), and stamps the rows with the next values of
``outbox_commit_seq``. A later committer on the same channel waits for that lock, so it draws a larger
``seq`` and becomes visible after: the relay publishes by ``seq`` and never publishes a channel's
event before one committed earlier. Unrelated channels share a stripe lock only for the instant of a
commit. Emit as late in a transaction as convenient; ``emit_many`` writes many rows in one statement.
"""

from __future__ import annotations

from typing import Any

import msgspec

from server import queries
from server.observability.tracing import current_traceparent

NOTIFY_CHANNEL = "outbox"
# The former process-wide emit lock. ``emit`` no longer takes it (rows are ordered at commit, see above); it is
# kept for writers that spell it out (server.live.queries), where it now only serializes themselves.
EMIT_LOCK = (0x5F10, 1)


async def emit(channel: str, event: str, data: Any, *, actor: int | None = None) -> None:
    """Queue ``event`` with ``data`` (anything msgspec encodes) for ``channel``, in the current transaction.

    ``actor``: the user whose action the event is; sockets of users in a block relation with them get a
    ``hidden`` placeholder instead (see ``channels.hub``). With tracing on, the row keeps the current
    span's W3C ``traceparent``: the relay's publish of it is then part of the trace of the request or
    job that made the change.
    """
    payload = msgspec.json.encode(data).decode()
    await queries.insert_outbox_event(channel, event, payload, actor, current_traceparent(), NOTIFY_CHANNEL)


async def emit_many(events: list[tuple[str, str, Any]], *, actor: int | None = None) -> None:
    """``emit`` for many ``(channel, event, data)`` at once, in one statement, all with the same ``actor``."""
    if not events:
        return
    channels = [c for c, _, _ in events]
    names = [e for _, e, _ in events]
    payloads = [msgspec.json.encode(d).decode() for _, _, d in events]
    await queries.insert_outbox_events(current_traceparent(), channels, names, payloads, actor, NOTIFY_CHANNEL)
