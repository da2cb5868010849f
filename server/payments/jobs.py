"""The payments job: apply a stored Stripe event (retried with backoff while Stripe is unreachable)."""

from __future__ import annotations

import procrastinate
from procrastinate import JobContext

from server.jobqueue import Job
from server.payments import runtime
from server.payments.services.webhooks import QUEUE, TASK, process


async def process_event(context: JobContext, event_id: str) -> None:
    """Apply one webhook event; a failure (Stripe down) rolls it back and the job runs again later."""
    await process(runtime.from_job(context), event_id)


async def release_due_job(timestamp: int) -> None:
    """Every five minutes: charges whose ``available_on`` came become available to pay out."""
    from server import db
    from server.payments import ledger

    async with db.transaction():
        await ledger.release_due()


JOBS = (
    Job(
        process_event,
        TASK,
        QUEUE,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=10, exponential_wait=2),
    ),
    Job(release_due_job, "payments.release_due", QUEUE, queueing_lock="payments.release_due", cron="*/5 * * * *"),
)
"""Payments' jobs (``server.jobs`` registers them on the process's queue)."""
