"""Email digests through the mail outbox, for users who have been away for a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server import db, mail
from server.notifications import preferences, queries, templates
from server.notifications.runtime import NotificationsRuntime

MAX_LINES = 20


async def send_digests(rt: NotificationsRuntime, now: datetime | None = None) -> int:
    """Queue one digest mail per away user with unmailed, unread notifications; returns how many."""
    now = now or datetime.now(UTC)
    away_since = now - timedelta(hours=rt.push.digest_after_hours)
    # Away: no session used since ``away_since`` and no digest since then either.
    sent = 0
    for user_id in await queries.digest_candidates(away_since):
        if await rt.is_online(user_id):
            continue
        async with db.transaction():
            sent += await _digest_one(user_id, rt.public_url)
    return sent


async def _digest_one(user_id: int, public_url: str) -> int:
    prefs = await preferences.load(user_id)
    rows = await queries.unmailed_for_digest(user_id)
    wanted = [r for r in rows if prefs.allows(r["type"], "email")]
    await queries.mark_digest_sent(user_id)
    if not wanted:
        return 0
    await queries.mark_emailed([r["id"] for r in wanted])
    lines: list[str] = []
    seen: set[str] = set()
    for r in wanted:
        if r["group_key"] in seen:
            continue
        seen.add(r["group_key"])
        group = [x for x in wanted if x["group_key"] == r["group_key"]]
        actors = {x["actor"] for x in group}
        lines.append(
            "- " + templates.render(prefs.locale, r["type"], r["actor"] or templates.TITLE, len(actors), len(group))
        )
    shown = lines[:MAX_LINES]
    if len(lines) > MAX_LINES:
        shown.append(f"... (+{len(lines) - MAX_LINES})")
    email = await queries.email_of(user_id)
    subject = templates.render(prefs.locale, "_digest_subject", "", count=len(wanted))
    await mail.enqueue(email, subject, "\n".join([*shown, "", public_url, ""]))
    return 1
