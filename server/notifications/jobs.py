"""The queue's jobs: fan a collapsed group out to the user's devices, send one push, mail digests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog
from procrastinate import JobContext

from server import db
from server.errors import NotFound
from server.jobqueue import HoldUntil, Job, ProviderRetry, Retryable, enqueue
from server.notifications import digest, preferences, queries, templates
from server.notifications.providers.base import Message, Rejected, TokenGone
from server.notifications.runtime import NotificationsRuntime, from_job
from server.observability.metrics import record_push
from server.observability.tracing import traced_job

log = structlog.get_logger(__name__)


@traced_job("notifications.push")
async def push(context: JobContext, user_id: int, group_key: str) -> None:
    """Push what is new in ``group_key`` to every device of ``user_id``, as one message per device."""
    await fan_out(from_job(context), user_id, group_key)


@traced_job("notifications.send")
async def send(context: JobContext, token_id: int, message: dict[str, Any]) -> None:
    """Deliver one push to one token; prune the token if its provider says it is gone for good."""
    token = await queries.push_token(token_id)
    if token is None:
        return
    rt = from_job(context)
    provider = rt.providers.get(token["platform"])
    platform = token["platform"]
    if provider is None:
        record_push(platform, "not_configured")
        log.warning("push_provider_not_configured", platform=platform)
        return
    try:
        await provider.send(token, msgspec.convert(message, Message))
    except TokenGone as exc:
        record_push(platform, "token_gone")
        await queries.prune_push_token(token_id)
        log.info("push_token_pruned", platform=platform, reason=str(exc))
    except Rejected as exc:
        record_push(platform, "rejected")
        log.warning("push_rejected", platform=platform, reason=str(exc))
    except Retryable as exc:
        record_push(platform, "retry")
        exc.schedule(context.job.attempts, rt.push)  # when to try again: the worker's push settings decide
        raise
    except Exception:
        record_push(platform, "error")
        raise
    else:
        record_push(platform, "sent")


async def digest_job(context: JobContext, timestamp: int) -> None:
    """Mail a digest to users who have been away, every ten minutes."""
    await digest.send_digests(from_job(context))


JOBS = (
    Job(push, "notifications.push", "push", pass_context=True, retry=ProviderRetry()),
    Job(send, "notifications.send", "push", pass_context=True, retry=ProviderRetry()),
    Job(digest_job, "notifications.digest", "digest", pass_context=True, queueing_lock="digest", cron="*/10 * * * *"),
)
"""Notifications' jobs (``server.jobs`` registers them on the process's queue)."""


async def fan_out(rt: NotificationsRuntime, user_id: int, group_key: str, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    try:
        prefs = await preferences.load(user_id)
    except NotFound:
        return
    until = prefs.quiet_until(now)
    if until is not None:
        raise HoldUntil(until)
    async with db.transaction():
        rows = await queries.take_unpushed(user_id, group_key)
        if not rows:
            return
        fresh = [r for r in rows if r["read_at"] is None]
        type_ = rows[0]["type"]
        if not fresh or not prefs.allows(type_, "push"):
            return
        if not prefs.push_while_online and await rt.is_online(user_id):
            return  # they are looking: the live event is enough
        stats = await queries.group_push_stats(user_id, group_key)
        actor_name = await _actor_name(fresh[0]["actor"])
        tokens = await queries.push_token_locales(user_id)
        for token in tokens:
            locale = token["locale"] or prefs.locale
            message = Message(
                title=templates.TITLE,
                body=templates.render(locale, type_, actor_name, stats["actors"], stats["n"]),
                collapse_key=group_key,
                data={"type": type_, "group_key": group_key, "notification_id": str(fresh[0]["id"])},
                badge=int(stats["unread"]),
            )
            await enqueue("notifications.send", {"token_id": token["id"], "message": msgspec.to_builtins(message)})


async def _actor_name(actor_id: int | None) -> str:
    if actor_id is None:
        return templates.TITLE
    return await queries.display_name(actor_id) or templates.TITLE
