"""Chaos: PostgreSQL restarted under load. Requests fail with 503 (never 500) and recover with no restart of ours.

The cluster restarted is the test's own (``own_postgres``), stopped and deleted when it ends: the
session's test database keeps running for the other tests, and nothing is left behind.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import PASSWORD
from tests.support.live import live_server

pytestmark = pytest.mark.suite  # `make suites` (in .ci/run), not `make test`

ROOT = Path(__file__).resolve().parents[3]


class OwnPostgres:
    """A PostgreSQL cluster of this test's own (the session's test database is never taken down)."""

    def __init__(self, root: Path) -> None:
        from server.embedded import ensure_database, get_server

        self.root = root
        self.server = get_server(root / "postgres", cleanup_mode="delete")
        asyncio.run(ensure_database(self.server.get_uri("postgres"), "socialflow_chaos"))
        self.url = str(self.server.get_uri("socialflow_chaos"))
        self.pids: set[int] = set()
        self._note_pid()

    def _note_pid(self) -> None:
        pid = self.server.get_pid()
        assert pid is not None
        self.pids.add(pid)

    def restart(self, down_for: float) -> None:
        """Fast shutdown (every connection dropped), a pause, then start again, as an operator would."""
        pid = self.server.get_pid()
        assert pid is not None
        os.kill(pid, signal.SIGINT)
        _wait_gone(pid)
        time.sleep(down_for)
        self.server.ensure_postgres_running()
        self._note_pid()

    def stop(self) -> None:
        """Stop whatever postmaster this cluster had (the first and the restarted one) and delete it."""
        self.server.cleanup()
        for pid in self.pids:
            _wait_gone(pid)
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), f"postgres {pid} still running"


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """Started and stopped here: after the test no postmaster of it is left (checked by pid)."""
    root = ROOT / ".data" / f"chaos-{os.getpid()}"  # under .data: the postgres system user can reach it
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    pg = OwnPostgres(root)
    try:
        yield pg
    finally:
        pg.stop()
        assert not any(_alive(p) for p in pg.pids), pg.pids


def test_postgres_restart_under_load_gives_503_then_recovers(own_postgres, redis_client):
    # The load posts continuously: lift the per-user post limit so only the outage shows in the statuses.
    env = {"DATABASE_URL": own_postgres.url, "RATE_LIMIT_WRITE_POSTS": "1000000/60"}
    with live_server(**env) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        assert (
            http.post(
                "/api/v1/auth/register", json={"username": "load", "email": "load@example.com", "password": PASSWORD}
            ).status_code
            == 201
        )
        token = http.post("/api/v1/auth/login", json={"login": "load", "password": PASSWORD}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        statuses: Counter[int] = Counter()
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=srv.url, timeout=30) as c:
                n = 0
                while not stop.is_set():
                    n += 1
                    for res in (
                        c.get("/api/v1/feeds/public"),
                        c.get("/api/v1/posts/1"),
                        c.post("/api/v1/posts", json={"text": f"load {n}"}, headers=auth),
                    ):
                        statuses[res.status_code] += 1
                    time.sleep(0.01)

        workers = [threading.Thread(target=load) for _ in range(3)]
        for w in workers:
            w.start()
        try:
            time.sleep(1.0)
            pid_before = srv.proc.pid
            own_postgres.restart(down_for=2.0)
            # Recovery with no restart of ours: the same process answers again.
            deadline = time.monotonic() + 90
            recovered = False
            while time.monotonic() < deadline:
                if http.get("/readyz").status_code == 200:
                    res = http.post("/api/v1/posts", json={"text": "after the restart"}, headers=auth)
                    if res.status_code == 201:
                        recovered = True
                        break
                time.sleep(0.3)
            time.sleep(1.0)
        finally:
            stop.set()
            for w in workers:
                w.join()
        assert recovered, srv.log()
        assert srv.proc.poll() is None and srv.proc.pid == pid_before
        assert statuses[500] == 0, (statuses, srv.log())
        assert statuses[503] > 0, statuses  # the outage was seen, and said as such
        assert set(statuses) <= {200, 201, 404, 503}, statuses
        assert http.get("/api/v1/feeds/public").status_code == 200
