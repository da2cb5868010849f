"""The outbox relay: publishes committed outbox rows to the broker, once each, in commit order per channel.

- Wake-up: LISTEN ``outbox`` (``server.outbox.emit`` NOTIFYs on commit), with a slow fallback poll.
- One relay across nodes: each node tries ``pg_try_advisory_lock`` on a dedicated connection; the holder
  relays, the others stand by and retry, and take over when the holder's connection (and lock) goes.
- Order: ``emit`` takes one transaction-scoped advisory lock before inserting (see ``server.outbox``),
  so an outbox id is assigned only after every earlier emitting transaction committed or rolled back:
  id order is commit order, and no row with a smaller id can still commit once a larger one is visible.
  Rows are also selected by ``published_at IS NULL`` rather than "id greater than the last", so even a
  late row would be published, never skipped.
- Once: each row is published with idempotency key ``outbox:<id>``, then marked published. A relay
  that dies between the two re-publishes the row on restart and the broker answers with the first
  position instead of publishing it again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog

from channels.broker import Broker, BrokerUnavailable
from server.outbox import NOTIFY_CHANNEL

log = structlog.get_logger(__name__)

RELAY_LOCK = 0x5F10_0002
BATCH = 500
KEEP_PUBLISHED = "1 day"


class Relay:
    """Runs in the background of every node; only the advisory-lock holder relays."""

    def __init__(self, dsn: str, broker: Broker, *, poll: float = 5.0, standby_retry: float = 2.0) -> None:
        self.dsn = dsn
        self.broker = broker
        self.poll = poll
        self.standby_retry = standby_retry
        self.active = False
        self.published = 0
        # Test seam: called after each publish, before the batch is marked (to simulate a crash there).
        self.after_publish: Callable[[int], None] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None
        self.active = False

    async def _run(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn)
                if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):
                    await conn.close()
                    await asyncio.sleep(self.standby_retry)
                    continue
                self.active = True
                await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
                log.info("outbox relay active")
                await self._relay(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay interrupted", error=str(exc))
                await asyncio.sleep(1.0)
            finally:
                self.active = False
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)

    async def _relay(self, conn: asyncpg.Connection) -> None:
        rounds = 0
        while True:
            self._wake.clear()
            try:
                while await self.drain(conn) == BATCH:
                    pass
            except BrokerUnavailable as exc:
                log.warning("outbox relay: broker unavailable", error=str(exc))
                await asyncio.sleep(1.0)
                continue
            rounds += 1
            if rounds % 100 == 0:
                await conn.execute(
                    "DELETE FROM outbox_events WHERE published_at < now() - $1::interval", KEEP_PUBLISHED
                )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)

    async def drain(self, conn: asyncpg.Connection) -> int:
        """Publish one batch of unpublished rows in id order; return how many there were."""
        rows = await conn.fetch(
            "SELECT id, channel, event, data::text AS data FROM outbox_events "
            "WHERE published_at IS NULL ORDER BY id LIMIT $1",
            BATCH,
        )
        done: list[int] = []
        try:
            for row in rows:
                await self.broker.publish(
                    row["channel"], row["event"], row["data"].encode(), idempotency_key=f"outbox:{row['id']}"
                )
                done.append(row["id"])
                self.published += 1
                if self.after_publish is not None:
                    self.after_publish(row["id"])
        except BrokerUnavailable:
            await self._mark(conn, done)  # keep the progress made before the broker went away
            raise
        await self._mark(conn, done)
        return len(rows)

    @staticmethod
    async def _mark(conn: asyncpg.Connection, ids: list[int]) -> None:
        if ids:
            await conn.execute("UPDATE outbox_events SET published_at = now() WHERE id = ANY($1::bigint[])", ids)
