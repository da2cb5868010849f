"""Database lifecycle: the connection pool and migrations."""

from __future__ import annotations

import asyncio
from typing import Any

from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

from channels.suppressed import suppressed
from server import replicas
from server.settings import DatabaseSettings

# Any 64-bit constant shared by every node: only one of them migrates at a time.
_MIGRATION_LOCK = 0x5F10_0001


def engine() -> PostgresEngine:
    db = engine_finder()
    assert isinstance(db, PostgresEngine)
    return db


def transaction() -> Any:  # Any: SafeTransaction.__aexit__ -> bool would read to mypy as "may swallow"
    """``async with db.transaction():`` — the one way to open a transaction.

    Piccolo's builder, ``server.sql`` and ``server.outbox.emit`` all join it; nested calls join the
    outer one. It is ``piccolo_conf.SafeTransaction``: its connection goes back to the pool whatever
    happens (see there).
    """
    return engine().transaction()


async def keep_session(conn: Any) -> None:
    """The pool's ``reset``: nothing beyond asyncpg's own (it rolls back a transaction left open).

    asyncpg's default reset sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every
    release: one round trip per acquire, two to four per API request. Pool connections here carry no
    session state to undo: no ``SET`` (only transaction-scoped settings), no ``LISTEN`` (the outbox relay
    listens on a connection of its own), no cursors, and only ``pg_advisory_xact_lock`` (released at
    commit or rollback; the migration lock is taken on a connection of its own). The reset had been kept as
    a workaround for shutdown hanging in ``pool.close()``; the cause was a transaction whose cancellation
    skipped giving its connection back (fixed in ``piccolo_conf.SafeTransaction``), not the reset.
    """


def bind(settings: DatabaseSettings) -> None:
    """Point Piccolo's engine at ``settings.url`` (when set), whatever ``DATABASE_URL`` said at import.

    ``piccolo_conf`` builds the engine from ``DATABASE_URL`` when it is first imported (the Piccolo CLI
    needs that); the app and the workers take their DSN from their settings instead, so which module
    imported ``piccolo_conf`` first (and when) does not decide which database they use.
    """
    db = engine()
    if settings.url and db.config.get("dsn") != settings.url:
        if db.pool is not None:
            raise RuntimeError("the connection pool is open on another database: close it first")
        db.config = {**db.config, "dsn": settings.url}


class _PoolUsers:
    """How many ``start_pool`` calls have not been matched by a ``close_pool`` yet.

    Piccolo's engine, and so its pool, is one per process, while two app nodes (or an app and a job worker)
    can serve in one process: a test's second ``create_app``, the test fixtures' own ``start_pool``. Each
    node opens the pool on start and closes it on stop. Without this count the second node's start found
    the pool open (Piccolo's "A pool already exists" warning) and its stop closed the pool the first node
    was still serving from: a connection the first node had borrowed was terminated after the grace period,
    and its later queries each opened a connection of their own (Piccolo's fallback without a pool).
    """

    count = 0
    opening = False  # a start_pool is awaiting the pool: a concurrent one joins it instead of opening another


async def start_pool(settings: DatabaseSettings | None = None, max_size: int = 10) -> None:
    """Open the pool, on ``settings.url`` when given (see ``bind``), or join the one this process has open.

    The first caller's ``max_size`` sizes a shared pool; ``bind`` refuses a second database while it is open.
    """
    if settings is not None:
        bind(settings)
    _PoolUsers.count += 1
    if engine().pool is not None or _PoolUsers.opening:
        return
    _PoolUsers.opening = True
    try:
        await engine().start_connection_pool(min_size=1, max_size=max_size, reset=keep_session)
    except BaseException:
        _PoolUsers.count -= 1
        raise
    finally:
        _PoolUsers.opening = False


def replica_set(settings: DatabaseSettings, redis: Any | None) -> replicas.ReplicaSet | None:
    """The read replicas (``None`` without ``DATABASE_REPLICA_URLS``); the composition root starts and stops it."""
    if not settings.replica_urls:
        return None
    return replicas.ReplicaSet(
        list(settings.replica_urls),
        primary=lambda: engine().pool,
        redis=redis,
        max_lag=settings.replica_max_lag,
        poll=settings.replica_poll,
    )


async def close_pool(grace: float = 10.0) -> None:
    """Close the pool, waiting at most ``grace`` seconds for borrowed connections, then terminate it.

    asyncpg's ``Pool.close()`` waits for every connection to be released; one held by a task that is
    itself stuck would hang shutdown forever, so after the grace period the pool is terminated.
    Only the last of the process's ``start_pool`` callers closes it (see ``_PoolUsers``).
    """
    _PoolUsers.count = max(_PoolUsers.count - 1, 0)
    if _PoolUsers.count:
        return
    db = engine()
    pool = db.pool
    if pool is None:
        return
    try:
        await asyncio.wait_for(pool.close(), grace)
    except (TimeoutError, Exception):
        pool.terminate()
    finally:
        db.pool = None


async def migrate(settings: DatabaseSettings | None = None) -> None:
    """Apply every pending migration, holding an advisory lock so that concurrent nodes take turns."""
    import asyncpg
    from piccolo.apps.migrations.commands.forwards import run_forwards

    if settings is not None:
        bind(settings)
    conn = await asyncpg.connect(engine().config["dsn"])
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        result = await run_forwards(app_name="all", migration_id="all", fake=False)
        if not result.success:
            raise RuntimeError(f"migrations failed: {result.message}")
    finally:
        # Closing the connection below releases the session lock anyway.
        with suppressed("migration_unlock_failed", level="debug"):
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await conn.close()


async def ping(limit: float = 2.0) -> bool:
    try:
        await asyncio.wait_for(engine().run_ddl("SELECT 1"), limit)
    except Exception:
        return False
    return True
