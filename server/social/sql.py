"""Thin asyncpg helpers that join the caller's Piccolo transaction when there is one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from server import db


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


async def fetch(sql: str, *args: Any) -> list[asyncpg.Record]:
    async with _conn() as conn:
        return list(await conn.fetch(sql, *args))


async def fetchrow(sql: str, *args: Any) -> asyncpg.Record | None:
    async with _conn() as conn:
        return await conn.fetchrow(sql, *args)


async def fetchval(sql: str, *args: Any) -> Any:
    async with _conn() as conn:
        return await conn.fetchval(sql, *args)


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


def transaction() -> Any:
    """``async with transaction():`` — a Piccolo transaction, so ``server.outbox.emit`` joins it."""
    return db.engine().transaction()
