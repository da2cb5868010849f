"""Thin asyncpg helpers that join the caller's Piccolo transaction when there is one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from server import db, replicas


@asynccontextmanager
async def _conn() -> AsyncIterator[asyncpg.Connection]:
    engine = db.engine()
    tx = engine.current_transaction.get()
    if tx is not None:
        yield tx.connection
        return
    if engine.pool is None:  # CLI tools without a pool
        conn = await asyncpg.connect(engine.config["dsn"])
        try:
            yield conn
        finally:
            await conn.close()
        return
    async with engine.pool.acquire() as conn:
        yield conn


async def _read(method: str, sql: str, args: tuple[Any, ...]) -> Any:
    # Inside ``replicas.reads(...)`` and outside a transaction, a read may go to a replica.
    if replicas.current() is not None and db.engine().current_transaction.get() is None:
        done, result = await replicas.run_read(method, sql, args)
        if done:
            return result
    async with _conn() as conn:
        return await getattr(conn, method)(sql, *args)


async def fetch(sql: str, *args: Any) -> list[asyncpg.Record]:
    return list(await _read("fetch", sql, args))


async def fetchrow(sql: str, *args: Any) -> asyncpg.Record | None:
    return await _read("fetchrow", sql, args)  # type: ignore[no-any-return]


async def fetchval(sql: str, *args: Any) -> Any:
    return await _read("fetchval", sql, args)


async def execute(sql: str, *args: Any) -> str:
    """Run ``sql``; the status string (``INSERT 0 1``…) tells how many rows changed."""
    async with _conn() as conn:
        return str(await conn.execute(sql, *args))


def changed(status: str) -> int:
    """Rows affected, from an asyncpg status string."""
    try:
        return int(status.rsplit(" ", 1)[-1])
    except ValueError:
        return 0
