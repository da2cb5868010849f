"""The account-data jobs: build an export; hourly, purge accounts past their grace period and old exports."""

from __future__ import annotations

from server.account_data import deletion, export
from server.notifications.queue import queue
from server.observability.tracing import traced_job
from server.settings import get_settings


@queue.task(name=export.JOB, queue="account")
@traced_job(export.JOB)
async def build_export(export_id: int) -> None:
    """Build one export (a failure marks it failed; the user may ask again)."""
    await export.build(export_id, get_settings())


@queue.periodic(cron="17 * * * *")
@queue.task(name=deletion.JOB, queue="account", queueing_lock="account_data_purge")
async def purge(timestamp: int) -> None:
    """Hard-delete accounts whose 30 days are over, and export files whose link expired."""
    settings = get_settings()
    await deletion.purge_due(settings)
    await export.purge_expired(settings)
