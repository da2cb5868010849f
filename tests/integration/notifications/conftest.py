"""Notifications tests: the worker runs on demand (``drain``), never behind the test's back."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest


@pytest.fixture(autouse=True)
def _worker_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set before the ``app`` fixture builds settings: jobs run only when a test drains the queue.
    monkeypatch.setenv("NOTIFY_WORKER", "off")
    monkeypatch.setenv("PUSH_COLLAPSE_SECONDS", "0")


@pytest.fixture
async def jobs(client: object) -> AsyncIterator[object]:
    """The procrastinate tables, emptied (they are not Piccolo tables, so ``clean_db`` leaves them)."""
    from server import db

    await db.engine().run_ddl(
        "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers CASCADE"
    )
    yield
    os.environ.pop("_unused", None)
