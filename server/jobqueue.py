"""The job queue: procrastinate on PostgreSQL, so it works with or without Redis.

Jobs are enqueued with an INSERT into ``procrastinate_jobs`` on the caller's Piccolo connection, so a
push job commits or rolls back with the notification that caused it (procrastinate's own ``defer``
uses a separate psycopg pool and could run a job for a notification that never committed). The
partial unique index on ``queueing_lock`` (status ``todo``) coalesces a burst into one waiting job.

No module holds the procrastinate ``App``: each domain declares its jobs as ``Job`` values (its
``jobs.py: JOBS``), ``server.jobs.JOBS`` lists them all, and the composition root builds one App per
process with ``build(JOBS)`` (``server.runtime.Runtime.queue``) and hands it to the workers. Deferring
needs no App (the INSERT above), so services that enqueue get nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import procrastinate
import procrastinate.worker
import structlog
from procrastinate import JobContext
from procrastinate.jobs import Job as QueuedJob
from procrastinate.retry import BaseRetryStrategy, RetryDecision, RetryValue
from psycopg_pool import AsyncConnectionPool

from server import queries
from server.settings import PushSettings, Settings

log = structlog.get_logger(__name__)

QUEUES = ("push", "digest", "account", "payments")
SETTINGS_KEY = "settings"
"""Where a job finds its process's settings in the worker's context (``settings_of``)."""


def _dsn() -> str:
    from server import db

    return str(db.engine().config["dsn"])


def _pool(**kwargs: Any) -> AsyncConnectionPool:
    # The DSN is read when the queue opens, not when it is built: the runtime binds the engine to its
    # settings' database (``server.db.bind``, in ``start_pool``) before it opens the queue.
    return AsyncConnectionPool(conninfo=_dsn(), **kwargs)


@dataclass(frozen=True, slots=True)
class Job:
    """One kind of job: its function and how procrastinate runs it (the arguments of ``App.task``).

    Declared by its domain at import (immutable); registered on a process's App by ``build``. ``name`` is
    what ``procrastinate_jobs.task_name`` holds, so it never changes once jobs of it may be queued.
    """

    func: Callable[..., Awaitable[Any]]
    name: str
    queue: str
    pass_context: bool = False
    retry: RetryValue = False
    queueing_lock: str | None = None
    cron: str | None = None
    """Deferred periodically by the worker (``App.periodic``), if set."""

    @property
    def traced(self) -> bool:
        """Whether the job continues its enqueuer's trace (``observability.tracing.traced_job``)."""
        return bool(getattr(self.func, "traced", False))


def build(jobs: Iterable[Job]) -> procrastinate.App:
    """A procrastinate App (not yet open) with ``jobs`` registered, under their own names (no namespace)."""
    app = procrastinate.App(
        # Each in-process worker (notifications, video) holds one connection for LISTEN for its whole life,
        # and fetches, heartbeats and abort polls need more; 4 left a stopping worker waiting on the pool.
        connector=procrastinate.PsycopgConnector(pool_factory=_pool, min_size=1, max_size=10),
    )
    for job in jobs:
        # As keywords: ``App.task``'s overloads type ``pass_context`` as a literal.
        options: dict[str, Any] = {
            "name": job.name,
            "queue": job.queue,
            "pass_context": job.pass_context,
            "retry": job.retry,
            "queueing_lock": job.queueing_lock,
        }
        task = app.task(**options)(job.func)
        if job.cron is not None:
            app.periodic(cron=job.cron)(task)
    return app


class Retryable(Exception):
    """A provider said "later" (5xx, 429): retry with backoff, no sooner than ``retry_after`` seconds.

    The job that caught it decides when (``schedule``, with its worker's push settings); ``ProviderRetry``
    applies that decision.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.retry_in: float | None = None
        """Seconds until the next attempt, set by ``schedule``; ``None``: no further attempt."""

    def schedule(self, attempts: int, push: PushSettings) -> Retryable:
        """Decide the next attempt after ``attempts`` earlier ones: full-jitter backoff under ``push``'s limits."""
        if attempts + 1 < push.max_attempts:
            delay = backoff(attempts, push.backoff_base, push.backoff_max)
            if self.retry_after is not None:
                delay = max(delay, self.retry_after)
            self.retry_in = delay
        return self


class HoldUntil(Exception):
    """Not now (quiet hours): run again at ``until``; does not count against the attempt limit."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"held until {until.isoformat()}")
        self.until = until


def backoff(attempts: int, base: float, cap: float) -> float:
    """Full-jitter exponential backoff: uniform in [base * 2**attempts / 2, base * 2**attempts], capped."""
    ceiling = min(cap, base * (2**attempts))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class ProviderRetry(BaseRetryStrategy):
    """Retries a ``Retryable`` when its job scheduled one (``Retryable.schedule``); ``HoldUntil`` waits."""

    def get_retry_decision(self, *, exception: BaseException, job: QueuedJob) -> RetryDecision | None:
        if isinstance(exception, HoldUntil):
            return RetryDecision(retry_at=exception.until)
        if not isinstance(exception, Retryable) or exception.retry_in is None:
            return None
        return RetryDecision(retry_in={"seconds": int(exception.retry_in + 0.999)})


def settings_of(context: JobContext) -> Settings:
    """The settings of the process whose worker runs this job (``server.runtime.Runtime.job_context``)."""
    settings = (context.additional_context or {}).get(SETTINGS_KEY)
    if settings is None:
        raise RuntimeError("the job worker runs with its settings in the context (Runtime.job_context)")
    return settings  # type: ignore[no-any-return]


async def enqueue(
    task_name: str,
    args: dict[str, Any],
    *,
    queueing_lock: str | None = None,
    delay: float = 0.0,
    queue_name: str = "push",
) -> None:
    """Enqueue a job in the current Piccolo transaction; a waiting job with ``queueing_lock`` absorbs it."""
    at = datetime.now(UTC) + timedelta(seconds=delay) if delay > 0 else None
    from server.jobs import TRACED  # every domain's job list imports this module: read it when enqueuing

    if task_name in TRACED:
        from server.observability.tracing import TRACEPARENT_ARG, current_traceparent

        # The job's span continues this trace (the request that made the change, for instance).
        traceparent = current_traceparent()
        if traceparent:
            args = {**args, TRACEPARENT_ARG: traceparent}
    await queries.insert_job(queue_name, task_name, queueing_lock, msgspec.json.encode(args).decode(), at)


def _notification_options(context: dict[str, Any], *, wait: bool, concurrency: int, signals: bool) -> dict[str, Any]:
    """The notification worker's options (``context`` is what jobs receive, see ``run_worker``)."""
    return {
        "additional_context": context,
        "queues": list(QUEUES),
        "wait": wait,
        "concurrency": concurrency,
        "install_signal_handlers": signals,
        "delete_jobs": "successful",
        "name": "notifications",
        "fetch_job_polling_interval": 5.0,
    }


async def run_worker(
    app: procrastinate.App, context: dict[str, Any], *, wait: bool = True, concurrency: int = 4, signals: bool = False
) -> None:
    """Run jobs from every notification queue on ``app`` (open); with ``wait=False`` return once none is due.

    ``context`` is what jobs receive (``Runtime.job_context()``).
    """
    await app.run_worker_async(**_notification_options(context, wait=wait, concurrency=concurrency, signals=signals))


Prepare = Callable[[], Awaitable[None]]


class InProcessWorker:
    """A procrastinate worker run as a task of this process, stopped through the worker's own ``stop()``.

    Not by cancelling its task: a cancellation that lands while the worker is still starting (waiting for
    a connection in psycopg_pool, whose waits go through ``asyncio.wait_for``) can be swallowed on Python
    3.11, and the worker then ran on for ever with the task shown as "cancelling": the lifespan-shutdown
    teardown flake. ``stop()`` sets the worker's stop event, which its run loop honours wherever it is (the
    worker finishes or aborts its jobs, cancels its side tasks and unregisters). Only ``prepare`` (work
    done before the worker runs) is cancelled, and a cancellation lost there is caught by the flag checked
    before the worker starts.
    """

    # A worker that crashed (its fetch hit a database error: a deadlock, a restart, a constraint) starts again
    # after a pause, doubling up to the maximum; one that ran for a while before crashing starts from the minimum.
    RESTART_MIN = 1.0
    RESTART_MAX = 30.0
    HEALTHY_RUN = 60.0

    def __init__(
        self, app: procrastinate.App, name: str, options: dict[str, Any], prepare: Prepare | None = None
    ) -> None:
        self.app = app
        self.name = name
        self._options = options
        self._prepare = prepare
        self._worker: procrastinate.worker.Worker | None = None
        self._stopping = False
        self._stopped = asyncio.Event()  # wakes a pause between two runs
        self._task: asyncio.Task[None] | None = None
        self.crashes = 0
        self.restarts = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        if self._prepare is not None and not self._stopping:
            try:
                await self._prepare()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job_worker_prepare_failed", worker=self.name)
        loop = asyncio.get_running_loop()
        pause = self.RESTART_MIN
        while not self._stopping:
            started = loop.time()
            self._worker = procrastinate.worker.Worker(app=self.app, **self._options)
            try:
                # In the same step as the assignment: ``run()`` clears any earlier stop request before its first
                # await, so a ``stop()`` from now on is never lost.
                await self._worker.run()
                return  # stopped
            except asyncio.CancelledError:
                raise
            except Exception:
                self.crashes += 1
                if loop.time() - started >= self.HEALTHY_RUN:
                    pause = self.RESTART_MIN
                log.exception("job_worker_crashed", worker=self.name, restart_in=pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), pause)
            pause = min(pause * 2, self.RESTART_MAX)
            if not self._stopping:
                self.restarts += 1
                log.info("job_worker_restarted", worker=self.name, restarts=self.restarts)

    async def stop(self) -> None:
        """Stop the worker and wait for it (its running jobs end as its ``shutdown_graceful_timeout`` says)."""
        self._stopping = True
        self._stopped.set()
        task = self._task
        if task is None:
            return
        if self._worker is not None:
            self._worker.stop()
        else:
            task.cancel()  # not running yet: before or inside ``prepare``
        with contextlib.suppress(asyncio.CancelledError):
            await task


def start_in_process(app: procrastinate.App, context: dict[str, Any]) -> InProcessWorker:
    """The worker on ``app`` as a task of this process (``make run``'s default); ``await worker.stop()`` ends it."""
    worker = InProcessWorker(
        app, "notification-worker", _notification_options(context, wait=True, concurrency=4, signals=False)
    )
    worker.start()
    return worker


async def stop_in_process(worker: InProcessWorker) -> None:
    await worker.stop()
