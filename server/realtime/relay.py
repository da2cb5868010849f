"""The outbox relay: publishes committed outbox rows to the broker, once each, in commit order per channel.

- Wake-up: LISTEN ``outbox`` (``server.outbox.emit`` NOTIFYs on commit), with a slow fallback poll.
- One relay across nodes: each node tries ``pg_try_advisory_lock`` on a dedicated connection; the holder
  relays, the others stand by and retry, and take over when the holder's connection (and lock) goes.
- Order: rows are stamped with ``seq`` at commit (see ``server.outbox``); per channel ``seq`` order is
  commit order, and no row of a channel with a smaller ``seq`` can still commit once a larger one is
  visible. Rows are selected by ``published_at IS NULL`` rather than "seq greater than the last", so a
  row committed on another channel's stripe meanwhile is published, never skipped.
- Once: each row is published with idempotency key ``outbox:<id>``, then marked published. A relay
  that dies between the two re-publishes the row on restart and the broker answers with the first
  position instead of publishing it again.
- Stop: ``stop`` first asks the relay to finish the publish in flight, mark what it published and
  return; only a relay that does not (stuck on the database) is cancelled. Stopping never depends on a
  cancellation arriving intact: libraries built on Python 3.11's ``asyncio.wait_for`` can swallow one
  (see ``channels.redis``), and a relay that lost its cancellation would run on and hold up shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import asyncpg
import structlog

from channels.broker import Broker, BrokerUnavailable
from server.observability.metrics import RELAY_PUBLISH
from server.observability.tracing import continued
from server.outbox import NOTIFY_CHANNEL

log = structlog.get_logger(__name__)

RELAY_LOCK = 0x5F10_0002
APPLICATION_NAME = "outbox-relay"
BATCH = 500
KEEP_PUBLISHED = "1 day"
STOP_GRACE = 2.0


class Relay:
    """Runs in the background of every node; only the advisory-lock holder relays."""

    def __init__(self, dsn: str, broker: Broker, *, poll: float = 5.0, standby_retry: float = 2.0) -> None:
        self.dsn = dsn
        self.broker = broker
        self.poll = poll
        self.standby_retry = standby_retry
        self.active = False
        self.published = 0
        self.last_error: str | None = None
        """Why the relay last could not relay (connect, database or broker error); ``None`` once it relays."""
        # Test seam: called after each publish, before the batch is marked (to simulate a crash there).
        self.after_publish: Callable[[int], None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping = False
        self._stopped.clear()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop relaying: the batch in flight ends after its current publish, with what was published marked."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping = True
            self._stopped.set()
            self._wake.set()
            await asyncio.wait([task], timeout=STOP_GRACE)
            if not task.done():
                task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self.active = False

    @staticmethod
    async def _until(event: asyncio.Event, seconds: float) -> None:
        """Wait for ``event`` at most ``seconds``."""
        # asyncio.timeout, not wait_for: on 3.11 wait_for may swallow a cancellation that races its result.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()

    async def _run(self) -> None:
        while not self._stopping:
            conn: asyncpg.Connection | None = None
            try:
                # Named, so pg_stat_activity / pg_locks say which backend holds RELAY_LOCK (``lock_holder``).
                conn = await asyncpg.connect(self.dsn, server_settings={"application_name": APPLICATION_NAME})
                if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):
                    await conn.close()
                    conn = None
                    await self._until(self._stopped, self.standby_retry)
                    continue
                self.active = True
                self.last_error = None
                await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
                log.info("outbox relay active")
                await self._relay(conn)
            except asyncio.CancelledError:
                if conn is not None:
                    conn.terminate()  # may be mid-query: a graceful close would wait for the server's answer
                raise
            except Exception as exc:
                self.last_error = repr(exc)
                log.warning("outbox relay interrupted", error=str(exc))
                await self._until(self._stopped, 1.0)
            finally:
                self.active = False
                if conn is not None and not conn.is_closed():
                    try:
                        async with asyncio.timeout(2):
                            await conn.close()
                    except Exception:
                        conn.terminate()

    async def _relay(self, conn: asyncpg.Connection) -> None:
        rounds = 0
        while not self._stopping:
            self._wake.clear()
            try:
                while await self.drain(conn) == BATCH and not self._stopping:
                    pass
            except BrokerUnavailable as exc:
                self.last_error = repr(exc)
                log.warning("outbox relay: broker unavailable", error=str(exc))
                await self._until(self._stopped, 1.0)
                continue
            rounds += 1
            if rounds % 100 == 0:
                await conn.execute(
                    "DELETE FROM outbox_events WHERE published_at < now() - $1::interval", KEEP_PUBLISHED
                )
            if not self._stopping:
                await self._until(self._wake, self.poll)  # a NOTIFY, or stop

    async def drain(self, conn: asyncpg.Connection) -> int:
        """Publish one batch of unpublished rows in id order; return how many there were."""
        rows = await conn.fetch(
            "SELECT id, channel, event, data::text AS data, actor, traceparent FROM outbox_events "
            "WHERE published_at IS NULL ORDER BY seq LIMIT $1",
            BATCH,
        )
        done: list[int] = []
        try:
            for row in rows:
                if self._stopping:
                    break
                started = time.perf_counter()
                # Part of the trace of the request or job that emitted the row (when it was traced).
                with continued(
                    f"outbox publish {row['event']}",
                    row["traceparent"],
                    **{"messaging.destination.name": row["channel"], "outbox.id": row["id"]},
                ):
                    await self.broker.publish(
                        row["channel"],
                        row["event"],
                        row["data"].encode(),
                        idempotency_key=f"outbox:{row['id']}",
                        actor=row["actor"] or 0,
                    )
                RELAY_PUBLISH.observe(time.perf_counter() - started)
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
    async def lock_holder(conn: asyncpg.Connection) -> dict[str, object] | None:
        """The backend holding ``RELAY_LOCK`` (pid, application name, state, since when), or ``None``."""
        row = await conn.fetchrow(
            "SELECT a.pid, a.application_name, a.state, a.backend_start, a.state_change FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid AND l.objsubid = 1",
            RELAY_LOCK,
        )
        return dict(row) if row is not None else None

    @staticmethod
    async def _mark(conn: asyncpg.Connection, ids: list[int]) -> None:
        if ids:
            await conn.execute("UPDATE outbox_events SET published_at = now() WHERE id = ANY($1::bigint[])", ids)
