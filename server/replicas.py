"""Read replicas: list and feed reads on PostgreSQL streaming replicas, read-your-writes for the writer.

The primary stays the only writer (and the outbox stays on it). A handler opts a read in with
``async with replicas.reads(replica_set, viewer):``; inside it, ``server.sql``'s reads outside a transaction
go to a replica that is

- up (its last poll answered) and no further behind the primary than ``max_lag`` seconds, and
- for a user who wrote recently, past the WAL position (LSN) the primary had when that write's
  response was sent. That LSN is kept ``sticky`` seconds (in Redis when there is one, so every node
  knows it; else in this process), and ``sticky`` > ``max_lag`` plus two polls: once it has expired,
  any replica still in use has replayed the write.

Anything else (no replica configured, all down or lagging, a connection lost mid-read, a write that
slipped into a read scope) runs on the primary.

Lag is measured without clocks: every poll samples the primary's LSN, and a replica is as far behind
as the oldest sample it has not replayed yet.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import math
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import structlog

from channels.suppressed import suppressed
from server.observability.metrics import DB_REPLICA_LAG, DB_REPLICA_READS

log = structlog.get_logger(__name__)

# Where each read scope went (``socialflow_db_replica_reads_total``), bound once: this is on every feed read.
_TO_REPLICA = DB_REPLICA_READS.labels(target="replica", reason="fit")
_WRITTEN = DB_REPLICA_READS.labels(target="primary", reason="written")
_UNAVAILABLE = DB_REPLICA_READS.labels(target="primary", reason="unavailable")
_FALLBACK = DB_REPLICA_READS.labels(target="primary", reason="fallback")

# What a lost or refused replica raises: the read is retried on the primary.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.ReadOnlySQLTransactionError,  # a write inside a read scope: the primary takes it
    asyncpg.QueryCanceledError,  # a standby cancels reads that conflict with replay
)
_WRITER_KEY = "replica:lsn:{}"
_LOCAL_MAX = 100_000


def parse_lsn(text: str | None) -> int:
    """``'16/B374D848'`` -> an integer that orders like the WAL position (0 for ``None``)."""
    if not text:
        return 0
    hi, _, lo = str(text).partition("/")
    return (int(hi, 16) << 32) | int(lo, 16)


class Replica:
    """One replica's pool and what the last poll said about it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: asyncpg.Pool | None = None
        self.up = False
        self.replay_lsn = 0
        self.lag = math.inf  # seconds behind the primary at the last poll

    @property
    def name(self) -> str:
        # Host and port only: the URL may carry a password, which is never logged.
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return f"{parts.hostname or 'socket'}:{parts.port or 5432}{parts.path}"


# This task's replica and the set it belongs to (``None``: the primary). Task-local, not process state:
# the set itself is built by the composition root (server/runtime.py) and handed down.
_current: contextvars.ContextVar[tuple[ReplicaSet, Replica] | None] = contextvars.ContextVar(
    "sf_read_replica", default=None
)


def current() -> Replica | None:
    """The replica this task's reads go to (``None``: the primary)."""
    chosen = _current.get()
    return chosen[1] if chosen is not None else None


@contextlib.contextmanager
def on_primary() -> Iterator[None]:
    """Reads in this block go to the primary (background work started from a replica-read request)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


class ReplicaSet:
    def __init__(
        self,
        urls: list[str],
        *,
        primary: Any,
        redis: Any | None = None,
        max_lag: float = 5.0,
        poll: float = 0.5,
        pool_size: int = 10,
    ) -> None:
        self.replicas = [Replica(u) for u in urls]
        self._primary = primary  # () -> the primary's asyncpg pool
        self._redis = redis
        self.max_lag = max_lag
        self.poll = poll
        self.sticky = max_lag + 3 * poll
        self._pool_size = pool_size
        # (monotonic time, primary LSN), newest last: enough to tell any lag up to past the bound.
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._local: collections.OrderedDict[int, tuple[int, float]] = collections.OrderedDict()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for r in self.replicas:
            # min_size=0: a replica that is down at start does not stop the app; the poll finds it later.
            r.pool = await asyncpg.create_pool(r.url, min_size=0, max_size=self._pool_size)
        with suppressed("replica_first_refresh_failed"):  # the poller tries again every ``poll`` seconds
            await self.refresh()
        self._task = asyncio.create_task(self._poller(), name="replica-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for r in self.replicas:
            if r.pool is not None:
                try:
                    await asyncio.wait_for(r.pool.close(), 5)
                except (TimeoutError, Exception):
                    r.pool.terminate()
                r.pool = None

    # -- health ----------------------------------------------------------------------------------

    async def _poller(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            try:
                await self.refresh()
            except Exception:
                log.exception("replica_poll_failed")

    async def _primary_lsn(self) -> int:
        pool = self._primary()
        return parse_lsn(await asyncio.wait_for(pool.fetchval("SELECT pg_current_wal_lsn()::text"), 2))

    async def refresh(self) -> None:
        """Sample the primary's LSN, then ask every replica how far it has replayed."""
        now = time.monotonic()
        primary = await self._primary_lsn()
        if not self._samples or self._samples[-1][1] != primary:
            self._samples.append((now, primary))
        horizon = now - 2 * self.max_lag - 2 * self.poll
        # Keep the newest sample older than the horizon: it still dates a replica stuck before it.
        while len(self._samples) > 1 and self._samples[1][0] < horizon:
            self._samples.popleft()
        await asyncio.gather(*(self._check(r, now) for r in self.replicas))
        for r in self.replicas:
            DB_REPLICA_LAG.labels(replica=r.name).set(r.lag)

    async def _check(self, r: Replica, now: float) -> None:
        assert r.pool is not None
        try:
            text = await asyncio.wait_for(r.pool.fetchval("SELECT pg_last_wal_replay_lsn()::text"), 1.0)
        except Exception as exc:
            if r.up:
                log.warning("replica_down", replica=r.name, error=type(exc).__name__)
            r.up, r.lag = False, math.inf
            return
        if text is None:  # not a standby: it would serve stale nothing, but it is not a replica either
            r.up, r.lag = False, math.inf
            return
        if not r.up:
            log.info("replica_up", replica=r.name)
        r.up, r.replay_lsn = True, parse_lsn(text)
        # Behind by the age of the oldest primary position it has not reached (0 when caught up).
        r.lag = next((now - t for t, lsn in self._samples if lsn > r.replay_lsn), 0.0)

    def mark_down(self, r: Replica) -> None:
        if r.up:
            log.warning("replica_lost", replica=r.name)
        r.up, r.lag = False, math.inf

    # -- read-your-writes --------------------------------------------------------------------------

    async def wrote(self, user_id: int) -> None:
        """``user_id``'s write has committed: their reads stay on the primary until replicas replay it."""
        lsn = await self._primary_lsn()
        if self._redis is not None:
            await self._redis.set(_WRITER_KEY.format(user_id), lsn, px=int(self.sticky * 1000))
            return
        self._local[user_id] = (lsn, time.monotonic() + self.sticky)
        self._local.move_to_end(user_id)
        while len(self._local) > _LOCAL_MAX:
            self._local.popitem(last=False)

    async def _written(self, user_id: int) -> int:
        if self._redis is not None:
            raw = await self._redis.get(_WRITER_KEY.format(user_id))
            return int(raw) if raw is not None else 0
        hit = self._local.get(user_id)
        if hit is None:
            return 0
        if hit[1] < time.monotonic():
            self._local.pop(user_id, None)
            return 0
        return hit[0]

    async def choose(self, user_id: int | None) -> Replica | None:
        """A replica fit for ``user_id``'s reads, or ``None`` for the primary."""
        fit = [r for r in self.replicas if r.up and r.lag <= self.max_lag]
        if not fit:
            _UNAVAILABLE.inc()
            return None
        if user_id:
            floor = await self._written(user_id)
            if floor:
                fit = [r for r in fit if r.replay_lsn >= floor]
                if not fit:
                    _WRITTEN.inc()
                    return None
        _TO_REPLICA.inc()
        return random.choice(fit)

    @contextlib.asynccontextmanager
    async def reads(self, user_id: int | None) -> AsyncIterator[Replica | None]:
        replica = await self.choose(user_id)
        token = _current.set((self, replica) if replica is not None else None)
        try:
            yield replica
        finally:
            _current.reset(token)


@contextlib.asynccontextmanager
async def reads(replica_set: ReplicaSet | None, user_id: int | None) -> AsyncIterator[None]:
    """List and feed reads in this block may go to one of ``replica_set``'s replicas (see the module docstring)."""
    if replica_set is None:
        yield
        return
    async with replica_set.reads(user_id):
        yield


async def run_read(method: str, query: str, args: tuple[Any, ...]) -> tuple[bool, Any]:
    """Run a read on this task's replica: ``(True, result)``, or ``(False, None)`` to run it on the primary."""
    chosen = _current.get()
    if chosen is None:
        return False, None
    replica_set, replica = chosen
    if replica.pool is None or not replica.up:
        _FALLBACK.inc()
        return False, None
    try:
        async with replica.pool.acquire(timeout=2) as conn:
            return True, await getattr(conn, method)(query, *args)
    except UNAVAILABLE as exc:
        if not isinstance(exc, asyncpg.ReadOnlySQLTransactionError | asyncpg.QueryCanceledError):
            replica_set.mark_down(replica)
        _FALLBACK.inc()
        return False, None


def record_writes(replica_set: Callable[[], ReplicaSet | None]) -> Callable[[Any], Any]:
    """ASGI middleware: after a successful write by a signed-in user, remember the primary's LSN for their
    next reads (recorded before the response starts, so the client cannot read before the record exists).

    ``replica_set`` returns the app's current one (``server.app.CurrentRuntime``); whether there is one at all
    is a matter of the settings, so it is decided once, when the middleware is built."""

    def wrap(app: Any) -> Any:
        if replica_set() is None:
            return app
        return _recording(app, replica_set)

    return wrap


def _recording(app: Any, current: Callable[[], ReplicaSet | None]) -> Any:
    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await app(scope, receive, send)
            return

        async def send_after_record(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                from server.deps import signed_in_user_id

                user_id = signed_in_user_id(scope)
                replica_set = current()
                if user_id is not None and replica_set is not None:
                    try:
                        await replica_set.wrote(user_id)
                    except Exception:
                        # Without the record the next read may be stale for up to max_lag: say so.
                        log.exception("replica_write_record_failed", user_id=user_id)
            await send(message)

        await app(scope, receive, send_after_record)

    return middleware
