"""Piccolo configuration: one engine, from ``DATABASE_URL``.

The CLI (``python -m server``) starts an embedded PostgreSQL and sets ``DATABASE_URL`` before this
module is imported, so every process (uvicorn workers included) reads the same variable.
"""

import asyncio
import os
from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction


class SafeTransaction(PostgresTransaction):
    """Piccolo's transaction, made to give its connection back to the pool whatever happens.

    Piccolo acquires the connection, then awaits ``BEGIN``; on exit it awaits ``ROLLBACK``/``COMMIT`` and
    only then releases. A cancellation landing in ``BEGIN``, or in the ``ROLLBACK`` that follows a first
    cancellation (a shutdown cancels a task more than once), skipped the release: the connection stayed
    borrowed for ever and the pool's close waited on it at shutdown (the "pool is closing" hang).
    Here a connection whose begin, rollback or commit did not complete is terminated, and always released.
    """

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._give_back(broken=True)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        broken = True
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
            broken = False
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._give_back(broken=broken)
        return exception is None

    async def _give_back(self, *, broken: bool) -> None:
        conn = self.connection
        if broken:
            conn.terminate()  # its state is unknown: never hand it to the next borrower
        pool = self.engine.pool
        if pool is not None:
            await asyncio.shield(pool.release(conn))
        elif not broken:
            await conn.close()


class Engine(PostgresEngine):
    """PostgreSQL engine whose transactions always return their connection (see ``SafeTransaction``)."""

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return SafeTransaction(engine=self, allow_nested=allow_nested)


DB = Engine(
    config={"dsn": os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/socialflow"},
    # Pool sizes are applied when the app starts its pool (server.db).
    log_queries=False,
)

APP_REGISTRY = AppRegistry(apps=["models.piccolo_app"])
