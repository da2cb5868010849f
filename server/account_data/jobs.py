"""The account-data jobs: build an export; hourly, purge accounts past their grace period and old exports."""

from __future__ import annotations

from procrastinate import JobContext

from server.account_data import deletion, export
from server.jobqueue import Job, settings_of
from server.observability.tracing import traced_job


@traced_job(export.JOB)
async def build_export(context: JobContext, export_id: int, session_id: int = 0) -> None:
    """Build one export (a failure marks it failed; the user may ask again); its link is for ``session_id``."""
    await export.build(export_id, settings_of(context), session_id)


async def purge(context: JobContext, timestamp: int) -> None:
    """Hard-delete accounts whose 30 days are over, and export files whose link expired."""
    settings = settings_of(context)
    await deletion.purge_due(settings)
    await export.purge_expired(settings)


JOBS = (
    Job(build_export, export.JOB, "account", pass_context=True),
    Job(purge, deletion.JOB, "account", pass_context=True, queueing_lock="account_data_purge", cron="17 * * * *"),
)
"""Account data's jobs (``server.jobs`` registers them on the process's queue)."""
