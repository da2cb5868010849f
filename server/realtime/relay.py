"""The outbox relay: publishes committed outbox rows to the broker, once each, in commit order per channel.

- Wake-up: LISTEN ``outbox`` (``server.outbox.emit`` NOTIFYs on commit), with a slow fallback poll.
- One relay across nodes: each node tries ``pg_try_advisory_lock`` on a dedicated connection; the holder
  relays, the others stand by and retry, and take over when the holder's connection (and lock) goes.
- Never stalled silently (the lock is a session lock: it lives exactly as long as the holder's backend):
  every statement is bounded on both sides (server ``statement_timeout``, client ``command_timeout``), so
  a relay on a dead link gives up its connection within ``poll`` + ``QUERY_TIMEOUT`` and reconnects. The
  server lets go of the lock of a client that went away: TCP keepalives and ``tcp_user_timeout`` notice a
  dead link, ``idle_session_timeout`` a holder that stopped talking (a frozen process, whose kernel still
  answers keepalives): the relay runs a statement at least every ``poll`` seconds, and a batch marks what
  it published at least every ``BATCH_BUDGET`` seconds. A connection the server closes (restart,
  ``pg_terminate_backend``) wakes the relay at once; it reconnects and tries the lock like any node.
  A holder that cannot reach the broker for ``BROKER_GIVE_UP`` seconds lets the lock go and stands
  back for ``BROKER_STAND_BACK``: a node whose path to Redis works takes over.
- Wake-ups missed while a relay had no connection are not lost: a relay that takes the lock drains
  before it waits for the first NOTIFY, and the poll covers any other gap.
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
from server.observability.metrics import RELAY_ACTIVE, RELAY_INTERRUPTIONS, RELAY_PUBLISH
from server.observability.tracing import continued
from server.outbox import NOTIFY_CHANNEL

log = structlog.get_logger(__name__)

RELAY_LOCK = 0x5F10_0002
APPLICATION_NAME = "outbox-relay"
BATCH = 500
KEEP_PUBLISHED = "1 day"
STOP_GRACE = 2.0
CONNECT_TIMEOUT = 10.0
QUERY_TIMEOUT = 30.0
"""Server-side bound of every relay statement; the client gives up ``CLIENT_GRACE`` later (a dead link)."""
CLIENT_GRACE = 5.0
BATCH_BUDGET = 10.0
"""A batch stops publishing after this long and marks what it published (then the next batch goes on)."""
RECONNECT_DELAY = 1.0
BROKER_GIVE_UP = 10.0
"""A holder that cannot publish for this long gives up the lock (its own path to Redis may be what is down)."""
BROKER_STAND_BACK = 10.0
"""...and stays out of the race for the lock this long, so that a node that reaches the broker takes it."""
# A dead peer is noticed by the server in about idle + interval * count seconds (and unacknowledged data in
# tcp_user_timeout): then the backend exits and the relay lock is free for another node.
KEEPALIVE = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}
TCP_USER_TIMEOUT_MS = "30000"


def session_settings(query_timeout: float = QUERY_TIMEOUT) -> dict[str, str]:
    """The relay connection's server settings at connect: its name, statement bounds, keepalives."""
    return {
        # Named, so pg_stat_activity / pg_locks say which backend holds RELAY_LOCK (``lock_holder``).
        "application_name": APPLICATION_NAME,
        "statement_timeout": f"{int(query_timeout * 1000)}",
        "lock_timeout": f"{int(query_timeout * 1000)}",
        **KEEPALIVE,
    }


def holder_settings(poll: float) -> dict[str, str]:
    """Settings of newer PostgreSQL releases for the lock holder's session, set where the server has them
    (``idle_session_timeout``: 14, ``tcp_user_timeout``: 12), so that an older server still relays."""
    # The relay's longest quiet spell: a wait of ``poll``, or a batch's publishing (``BATCH_BUDGET`` plus one
    # publish, which the broker bounds at 5 s); twice that and a minute more before the server gives up on it.
    idle = 2 * (max(poll, BATCH_BUDGET) + 5.0) + 60.0
    return {"idle_session_timeout": f"{int(idle * 1000)}", "tcp_user_timeout": TCP_USER_TIMEOUT_MS}


class ConnectionLost(Exception):
    """The relay's connection closed under it (the server restarted, or it was terminated)."""


class BrokerGaveUp(Exception):
    """The broker stayed unavailable to this relay for ``broker_give_up`` seconds: it lets the lock go."""


class Relay:
    """Runs in the background of every node; only the advisory-lock holder relays."""

    def __init__(
        self,
        dsn: str,
        broker: Broker,
        *,
        poll: float = 5.0,
        standby_retry: float = 2.0,
        query_timeout: float = QUERY_TIMEOUT,
        broker_give_up: float = BROKER_GIVE_UP,
    ) -> None:
        self.dsn = dsn
        self.broker = broker
        self.poll = poll
        self.standby_retry = standby_retry
        self.query_timeout = query_timeout
        self.broker_give_up = broker_give_up
        self.active = False
        self.published = 0
        self.last_error: str | None = None
        """Why the relay last could not relay (connect, database or broker error); ``None`` once it relays."""
        self.backend_pid: int | None = None
        """The PostgreSQL backend of the connection that holds the lock while ``active`` (else ``None``)."""
        # Test seam: called after each publish, before the batch is marked (to simulate a crash there).
        self.after_publish: Callable[[int], None] | None = None
        self._session: tuple[int, object] | None = None
        """(backend pid, backend_start) of the session holding the lock while ``active``."""
        self._abandoned: tuple[int, object] | None = None
        """That session after the relay lost it, until a new connection holds the lock."""
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
        standing_by = False
        while not self._stopping:
            conn: asyncpg.Connection | None = None
            connected = False
            pause = 0.0
            try:
                conn = await asyncpg.connect(
                    self.dsn,
                    timeout=CONNECT_TIMEOUT,
                    command_timeout=self.query_timeout + CLIENT_GRACE,
                    server_settings=session_settings(self.query_timeout),
                )
                connected = True
                locked = await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK)
                if not locked and self._abandoned is not None:
                    locked = await self._end_abandoned(conn)
                if not locked:
                    if not standing_by:
                        log.info("outbox relay standing by", reason="another node holds the relay lock")
                        standing_by = True
                    await _close(conn)
                    conn = None
                    await self._until(self._stopped, self.standby_retry)
                    continue
                standing_by = False
                optional = holder_settings(self.poll)
                await conn.execute(
                    "SELECT set_config(name, v.value, false) FROM unnest($1::text[], $2::text[]) AS v(name, value) "
                    "JOIN pg_settings USING (name)",
                    list(optional),
                    list(optional.values()),
                )
                self.active = True
                self.backend_pid = conn.get_server_pid()
                self._abandoned = None
                self._session = (
                    self.backend_pid,
                    await conn.fetchval("SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"),
                )
                RELAY_ACTIVE.set(1)
                self.last_error = None
                await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
                # The server closing the connection (restart, pg_terminate_backend) ends the wait at once.
                conn.add_termination_listener(lambda _: self._wake.set())
                log.info("outbox relay active", backend_pid=self.backend_pid)
                await self._relay(conn)
            except asyncio.CancelledError:
                if conn is not None:
                    conn.terminate()  # may be mid-query: a graceful close would wait for the server's answer
                raise
            except BrokerGaveUp as exc:
                self.last_error = repr(exc)
                log.warning("outbox relay gave up the lock", reason="broker", error=str(exc))
                pause = BROKER_STAND_BACK
            except Exception as exc:
                reason = _reason(exc) if connected else "connect"
                self.last_error = repr(exc)
                RELAY_INTERRUPTIONS.labels(reason).inc()
                log.warning("outbox relay interrupted", reason=reason, error=repr(exc), was_active=self.active)
                standing_by = False
                pause = RECONNECT_DELAY
            finally:
                if self.active:
                    RELAY_ACTIVE.set(0)
                    # The session that held the lock may live on at the server (a dead link: the server has
                    # not noticed yet, and will not for up to idle_session_timeout): the next connection
                    # ends it if it still holds the lock, rather than wait that long with nobody relaying.
                    self._abandoned = self._session
                self.active = False
                self.backend_pid = None
                if conn is not None:
                    await _close(conn)  # before the pause: a lock still held on a stuck connection goes now
            if pause:
                await self._until(self._stopped, pause)

    async def _relay(self, conn: asyncpg.Connection) -> None:
        rounds = 0
        broker_down_since: float | None = None
        while not self._stopping:
            self._wake.clear()
            if conn.is_closed():
                raise ConnectionLost("the relay's database connection was closed")
            try:
                while await self.drain(conn) == BATCH and not self._stopping:
                    pass
                broker_down_since = None
            except BrokerUnavailable as exc:
                self.last_error = repr(exc)
                RELAY_INTERRUPTIONS.labels("broker").inc()
                log.warning("outbox relay: broker unavailable", error=str(exc))
                now = time.monotonic()
                broker_down_since = now if broker_down_since is None else broker_down_since
                if now - broker_down_since >= self.broker_give_up:
                    # Every node shares the broker, but this node's path to it may be what is broken: let a
                    # node that reaches it relay. If none does, the lock just moves; nothing is lost.
                    raise BrokerGaveUp(f"broker unavailable for {now - broker_down_since:.0f} s: {exc}") from exc
                await self._until(self._stopped, RECONNECT_DELAY)
                continue
            rounds += 1
            if rounds % 100 == 0:
                try:
                    await conn.execute(
                        "DELETE FROM outbox_events WHERE published_at < now() - $1::interval", KEEP_PUBLISHED
                    )
                except asyncpg.QueryCanceledError as exc:  # statement_timeout: the connection is still good
                    log.warning("outbox cleanup timed out", error=str(exc))
            if not self._stopping:
                await self._until(self._wake, self.poll)  # a NOTIFY, stop, the connection closing, or the poll

    async def drain(self, conn: asyncpg.Connection) -> int:
        """Publish one batch of unpublished rows in ``seq`` order; return how many there were (``BATCH`` when
        it stopped after ``BATCH_BUDGET`` seconds with some left, so that the caller goes on)."""
        rows = await conn.fetch(
            "SELECT id, channel, event, data::text AS data, actor, traceparent FROM outbox_events "
            "WHERE published_at IS NULL ORDER BY seq LIMIT $1",
            BATCH,
        )
        done: list[int] = []
        deadline = time.monotonic() + BATCH_BUDGET
        try:
            for row in rows:
                if self._stopping:
                    break
                if done and time.monotonic() > deadline:  # never without progress
                    await self._mark(conn, done)  # the session stays busy: no idle_session_timeout
                    return BATCH
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

    async def _end_abandoned(self, conn: asyncpg.Connection) -> bool:
        """The lock is taken: if by this relay's own previous session (same pid and start, so never another
        node's backend that reused the pid), end that session, wait for it to exit, and take the lock."""
        assert self._abandoned is not None
        pid, started = self._abandoned
        holder = await self.lock_holder(conn)
        if holder is None or holder["pid"] != pid or holder["backend_start"] != started:
            self._abandoned = None  # gone, or another node holds the lock: standing by is right
            return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK))
        log.warning("outbox relay ending its previous session", backend_pid=pid, reason="still holds the lock")
        try:  # PostgreSQL 14+ waits (up to the timeout, in ms) for the backend to exit
            ended = await conn.fetchval(
                "SELECT pg_terminate_backend(pid, $3) FROM pg_stat_activity WHERE pid = $1 AND backend_start = $2",
                pid,
                started,
                int(self.query_timeout * 1000),
            )
        except asyncpg.UndefinedFunctionError:  # older: signal it; the next standby retry finds the lock free
            ended = await conn.fetchval(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND backend_start = $2",
                pid,
                started,
            )
        if ended:
            RELAY_INTERRUPTIONS.labels("abandoned_session").inc()
        return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK))

    @staticmethod
    async def _mark(conn: asyncpg.Connection, ids: list[int]) -> None:
        if ids:
            await conn.execute("UPDATE outbox_events SET published_at = now() WHERE id = ANY($1::bigint[])", ids)


async def _close(conn: asyncpg.Connection) -> None:
    """Close ``conn`` politely if the server answers within 2 s, else drop it."""
    if conn.is_closed():
        return
    try:
        async with asyncio.timeout(2):
            await conn.close()
    except Exception:
        conn.terminate()


def _reason(exc: BaseException) -> str:
    """A stable word for why a connected relay was interrupted (``socialflow_relay_interruptions_total``)."""
    lost = (
        ConnectionLost,
        ConnectionError,
        asyncpg.ConnectionDoesNotExistError,
        asyncpg.AdminShutdownError,
        asyncpg.InterfaceError,
    )
    if isinstance(exc, lost):
        return "connection_lost"
    timeouts = (
        TimeoutError,
        asyncpg.QueryCanceledError,
        asyncpg.LockNotAvailableError,
        asyncpg.IdleSessionTimeoutError,
    )
    if isinstance(exc, timeouts):
        return "timeout"
    return "database"
