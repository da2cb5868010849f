"""Samples what is cheaper to read than to count on the hot path: sockets, subscriptions, outbox, job queue.

Each process samples its own gateway (summed across processes) and the shared database (the maximum is
kept), every ``interval`` seconds and right before a scrape. Counters kept as plain integers by the
realtime layer (which knows nothing of Prometheus) are turned into Prometheus counters by their deltas.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter as Tally
from typing import Any

import structlog

from channels import names
from server.observability import metrics, queries
from server.realtime import kinds

log = structlog.get_logger(__name__)


class Sampler:
    """Feeds the sampled gauges and delta counters of one process."""

    def __init__(self, realtime: Any, interval: float = 5.0) -> None:
        self.realtime = realtime
        self.interval = interval
        self._delivered = 0
        self._slow = 0
        self._kinds: set[str] = set()
        self._jobs: set[tuple[str, str]] = set()
        self._failed: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="metrics-sampler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self.sample()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database hiccup must not stop sampling
                log.warning("metrics_sample_failed", error=str(exc))
            await asyncio.sleep(self.interval)

    async def sample(self) -> None:
        async with self._lock:
            self.sample_gateway()
            await self._sample_database()

    def sample_gateway(self) -> None:
        metrics.ASYNCIO_TASKS.set(len(asyncio.all_tasks()))
        gateway = self.realtime.gateway
        conns = list(gateway.conns)
        metrics.WS_CONNECTIONS.set(len(conns))
        by_kind: Tally[str] = Tally()
        for conn in conns:
            for channel in list(conn.subs):
                try:
                    by_kind[kinds.VOCABULARY.parse(channel).kind] += 1
                except names.InvalidChannel:
                    continue
        for kind in self._kinds - by_kind.keys():
            metrics.WS_SUBSCRIPTIONS.labels(kind=kind).set(0)
        for kind, n in by_kind.items():
            metrics.WS_SUBSCRIPTIONS.labels(kind=kind).set(n)
        self._kinds |= by_kind.keys()
        delivered = gateway.hub.delivered
        if delivered > self._delivered:
            metrics.WS_EVENTS_DELIVERED.inc(delivered - self._delivered)
        self._delivered = delivered
        slow = gateway.slow_closes
        if slow > self._slow:
            metrics.WS_SLOW_CONSUMER_CLOSES.inc(slow - self._slow)
        self._slow = slow

    async def _sample_database(self) -> None:
        outbox = await queries.outbox_backlog()
        assert outbox is not None  # an aggregate without GROUP BY always answers one row
        metrics.OUTBOX_PENDING.set(outbox["pending"])
        metrics.OUTBOX_LAG.set(float(outbox["lag"]))
        rows = await queries.job_counts()
        queued: dict[tuple[str, str], int] = {}
        failed: dict[str, int] = {}
        for row in rows:
            if row["status"] == "failed":
                failed[row["task_name"]] = row["n"]
            else:
                queued[(row["task_name"], row["status"])] = row["n"]
        for kind, status in self._jobs - queued.keys():
            metrics.JOBS_QUEUED.labels(kind=kind, status=status).set(0)
        for (kind, status), n in queued.items():
            metrics.JOBS_QUEUED.labels(kind=kind, status=status).set(n)
        for kind in self._failed - failed.keys():
            metrics.JOBS_FAILED.labels(kind=kind).set(0)
        for kind, n in failed.items():
            metrics.JOBS_FAILED.labels(kind=kind).set(n)
        self._jobs |= queued.keys()
        self._failed |= failed.keys()
