"""Email digests through the mail outbox, for users who have been away for a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.accounts import MailOutbox
from server import db, mail
from server.notifications import preferences, seams, templates
from server.settings import get_settings

MAX_LINES = 20


async def send_digests(now: datetime | None = None) -> int:
    """Queue one digest mail per away user with unmailed, unread notifications; returns how many."""
    now = now or datetime.now(UTC)
    away_since = now - timedelta(hours=get_settings().push.digest_after_hours)
    # Away: no session used since ``away_since`` and no digest since then either.
    candidates = await MailOutbox.raw(
        "SELECT DISTINCT n.recipient AS user_id FROM notifications n JOIN users u ON u.id = n.recipient "
        "LEFT JOIN notification_preferences p ON p.user = u.id "
        "WHERE n.read_at IS NULL AND n.emailed_at IS NULL AND u.suspended_at IS NULL "
        "AND coalesce((SELECT max(s.last_used_at) FROM auth_sessions s WHERE s.user = u.id), u.created_at) < {} "
        "AND (p.last_digest_at IS NULL OR p.last_digest_at < {}) LIMIT 500",
        away_since,
        away_since,
    )
    sent = 0
    for row in candidates:
        if await seams.is_online(row["user_id"]):
            continue
        async with db.transaction():
            sent += await _digest_one(row["user_id"])
    return sent


async def _digest_one(user_id: int) -> int:
    prefs = await preferences.load(user_id)
    rows = await MailOutbox.raw(
        "SELECT n.id, n.type, n.group_key, coalesce(nullif(a.display_name, ''), a.username) AS actor "
        "FROM notifications n LEFT JOIN users a ON a.id = n.actor WHERE n.recipient = {} "
        "AND n.read_at IS NULL AND n.emailed_at IS NULL ORDER BY n.id DESC FOR UPDATE OF n SKIP LOCKED",
        user_id,
    )
    wanted = [r for r in rows if prefs.allows(r["type"], "email")]
    await MailOutbox.raw(
        'INSERT INTO notification_preferences ("user", last_digest_at) VALUES ({}, now()) '
        'ON CONFLICT ("user") DO UPDATE SET last_digest_at = now()',
        user_id,
    )
    if not wanted:
        return 0
    await MailOutbox.raw("UPDATE notifications SET emailed_at = now() WHERE id = ANY({})", [r["id"] for r in wanted])
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
    user = (await MailOutbox.raw("SELECT email FROM users WHERE id = {}", user_id))[0]
    subject = templates.render(prefs.locale, "_digest_subject", "", count=len(wanted))
    public_url = get_settings().public_url
    await mail.enqueue(user["email"], subject, "\n".join([*shown, "", public_url, ""]))
    return 1
