"""The core modules' SQL: the transactional outbox's inserts (``server.outbox``), the mail sender's claim of
queued mail (``server.mail``) and the job queue's INSERT (``server.jobqueue``).

Raw, through ``server.sql`` (so each joins the caller's transaction): the outbox inserts and NOTIFYs in one
round trip (a CTE) and writes many rows from arrays (``unnest ... WITH ORDINALITY``); the mail claim is a
``FOR UPDATE SKIP LOCKED`` batch, which the query builder does not express. Values are bind parameters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server import sql


async def insert_outbox_event(
    channel: str, event: str, data_json: str, actor: int | None, traceparent: str | None, notify_channel: str
) -> None:
    """One outbox row, and a ``NOTIFY`` on ``notify_channel`` (sent when the transaction commits)."""
    await sql.execute(
        "WITH ins AS (INSERT INTO outbox_events (channel, event, data, actor, traceparent, created_at) "
        "SELECT $1, $2, $3::jsonb, $4::bigint, $5, now() RETURNING id) SELECT pg_notify($6, '')",
        channel,
        event,
        data_json,
        actor,
        traceparent,
        notify_channel,
    )


async def insert_outbox_events(
    traceparent: str | None,
    channels: list[str],
    events: list[str],
    data_json: list[str],
    actor: int | None,
    notify_channel: str,
) -> None:
    """Many outbox rows (all by ``actor``) in one statement, in the order given, and one ``NOTIFY``."""
    await sql.execute(
        "WITH ins AS (INSERT INTO outbox_events (channel, event, data, actor, traceparent, created_at) "
        "SELECT c, e, d::jsonb, $5::bigint, $1, now() FROM unnest($2::text[], $3::text[], $4::text[]) "
        "WITH ORDINALITY AS t(c, e, d, n) ORDER BY n RETURNING id) SELECT pg_notify($6, '')",
        traceparent,
        channels,
        events,
        data_json,
        actor,
        notify_channel,
    )


async def claim_pending_mail(max_attempts: int, batch: int) -> list[Any]:
    """Up to ``batch`` unsent mails with fewer than ``max_attempts`` tries, oldest first, locked for the caller's
    transaction; rows another sender holds are skipped (two nodes never send the same mail)."""
    return await sql.fetch(
        "SELECT * FROM mail_outbox WHERE sent_at IS NULL AND attempts < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
        max_attempts,
        batch,
    )


# -- the job queue (server/jobqueue.py) ----------------------------------------------------------------


async def insert_job(
    queue_name: str, task_name: str, queueing_lock: str | None, args_json: str, scheduled_at: datetime | None
) -> None:
    """Queue a procrastinate job in the caller's transaction; a waiting job with ``queueing_lock`` absorbs it.

    Raw: procrastinate's table has no Piccolo model, and its own ``defer`` runs on its own psycopg pool, so
    the job would not commit or roll back with the change that caused it.
    """
    await sql.execute(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args, scheduled_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5) "
        "ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING",
        queue_name,
        task_name,
        queueing_lock,
        args_json,
        scheduled_at,
    )
