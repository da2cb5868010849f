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


async def start_pool(settings: DatabaseSettings | None = None, max_size: int = 10) -> None:
    """Open the pool, on ``settings.url`` when given (see ``bind``)."""
    if settings is not None:
        bind(settings)
    await engine().start_connection_pool(min_size=1, max_size=max_size, reset=keep_session)


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
    """
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
