"""The ``video`` job queue: processing jobs, upload expiry, recovery of jobs whose worker died.

Tasks run on the app's procrastinate queue (PostgreSQL) in a worker of their own (one transcode at a
time by default: ffmpeg already uses every core). The worker is given the ``VideoRuntime`` as its
context, so jobs use the same storage and settings as the app that built it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import procrastinate
import structlog
from procrastinate import JobContext, RetryStrategy

from server import db
from server.jobqueue import InProcessWorker, Job
from server.observability.tracing import traced_job
from server.video.processing import Processor
from server.video.queries import processing as processing_queries
from server.video.queries import uploads as upload_queries
from server.video.runtime import VideoRuntime
from server.video.uploads import expire_stale

log = structlog.get_logger(__name__)

QUEUE = "video"
STALLED_AFTER_SECONDS = 60


def _runtime(context: JobContext) -> VideoRuntime:
    rt = (context.additional_context or {}).get("video")
    if rt is None:
        raise RuntimeError("the video worker runs with its VideoRuntime as context")
    return rt  # type: ignore[no-any-return]


# Errors are retried; a cancellation (the video was deleted, or the worker is stopping) is not: a stopped
# worker's videos are requeued by ``requeue_orphans`` when a worker starts again.
RETRY = RetryStrategy(max_attempts=3, wait=5, retry_exceptions={Exception})


@traced_job("video.process")  # continues the trace of the upload that finished (the last tus PATCH)
async def process(context: JobContext, video_id: int) -> None:
    """Probe and transcode ``video_id``; an unexpected error is retried, and on the last attempt fails it."""
    rt = _runtime(context)
    try:
        await Processor(rt).run(video_id)
    except Exception:
        log.exception("video_process_error", video_id=video_id, attempt=context.job.attempts)
        if context.job.attempts + 1 >= rt.settings.max_attempts:
            await Processor(rt).fail(video_id, "processing_error")
            return
        raise


async def housekeeping(context: JobContext, timestamp: int) -> None:
    """Every minute: expire stale uploads and requeue jobs of workers that stopped beating."""
    rt = _runtime(context)
    await expire_stale(rt)
    await recover_stalled(context.app)
    await requeue_orphans()


JOBS = (
    Job(process, "video.process", QUEUE, pass_context=True, retry=RETRY),
    Job(
        housekeeping,
        "video.housekeeping",
        QUEUE,
        pass_context=True,
        queueing_lock="video.housekeeping",
        cron="* * * * *",
    ),
)
"""Video's jobs (``server.jobs`` registers them on the process's queue)."""


async def recover_stalled(app: procrastinate.App, seconds: float = STALLED_AFTER_SECONDS) -> int:
    """Put ``video`` jobs left ``doing`` by a crashed worker back in ``app``'s queue; how many."""
    manager = app.job_manager
    stalled = list(await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=seconds))
    for job in stalled:
        if job.task_name == "video.process":
            log.warning("video_job_recovered", job_id=job.id, worker_id=job.worker_id)
            await manager.retry_job(job)
    return len(stalled)


async def requeue_orphans() -> int:
    """Queue a job again for every live ``processing`` video whose job is no longer waiting or running."""
    video_ids = await upload_queries.orphaned_processing()
    for video_id in video_ids:
        async with db.transaction():
            job_id = await processing_queries.enqueue_process(video_id)
            await upload_queries.set_job(video_id, job_id)
        log.warning("video_job_requeued", video_id=video_id, job_id=job_id)
    return len(video_ids)


async def _recover(app: procrastinate.App) -> None:
    """Before the worker starts: jobs whose worker died, videos left processing without a job."""
    try:
        await recover_stalled(app)
        await requeue_orphans()
    except Exception:
        log.exception("video_recovery_failed")


def _options(rt: VideoRuntime, *, wait: bool, signals: bool) -> dict[str, Any]:
    return {
        "queues": [QUEUE],
        "wait": wait,
        "concurrency": rt.settings.worker_concurrency,
        "install_signal_handlers": signals,
        "delete_jobs": "successful",
        "name": "video",
        "additional_context": {"video": rt},
        "fetch_job_polling_interval": 2.0,
        "abort_job_polling_interval": 1.0,
        "shutdown_graceful_timeout": 0,
    }


async def run_worker(app: procrastinate.App, rt: VideoRuntime, *, wait: bool = True, signals: bool = False) -> None:
    """Process ``video`` jobs on ``app`` (open) until stopped (or, with ``wait=False``, until none is due)."""
    await _recover(app)
    await app.run_worker_async(**_options(rt, wait=wait, signals=signals))


def start_in_process(app: procrastinate.App, rt: VideoRuntime) -> InProcessWorker:
    worker = InProcessWorker(app, "video-worker", _options(rt, wait=True, signals=False), prepare=lambda: _recover(app))
    worker.start()
    return worker


async def stop_in_process(worker: InProcessWorker, grace: float = 10.0) -> None:
    """Stop the worker (a running transcode is aborted, and requeued on the next start); never hang shutdown on it."""
    stopping = asyncio.ensure_future(worker.stop())
    done, _ = await asyncio.wait({stopping}, timeout=grace)
    if not done:
        log.warning("video_worker_stop_timeout", seconds=grace)
        return
    await stopping
