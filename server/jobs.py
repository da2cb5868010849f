"""Every domain's jobs in one list: the composition root registers them on the process's procrastinate App.

A domain with jobs declares them in its ``jobs.py`` as ``JOBS`` (``server.jobqueue.Job`` values,
whose names are what ``procrastinate_jobs.task_name`` holds) and is added here.
"""

from __future__ import annotations

from server.account_data import jobs as account_data_jobs
from server.jobqueue import Job
from server.notifications import jobs as notification_jobs
from server.payments import jobs as payment_jobs
from server.video import jobs as video_jobs

JOBS: tuple[Job, ...] = (
    *notification_jobs.JOBS,
    *account_data_jobs.JOBS,
    *payment_jobs.JOBS,
    *video_jobs.JOBS,
)
TRACED = frozenset(job.name for job in JOBS if job.traced)
"""Names of the jobs that continue their enqueuer's trace (``enqueue`` adds the ``traceparent`` argument)."""
