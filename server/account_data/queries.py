"""Account data's SQL: what an export gathers and what a purge rewrites, across every domain's tables.

Raw, through ``server.sql``: an export section reads another domain's table as the user's own JSON file
(casts and joins the query builder cannot spell); a purge moves or corrects rows other domains own
(set-based ``UPDATE ... FROM``, counters ``greatest(x - 1, 0)``), upserts, and row locks. Values are always
bind parameters ($n).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server import sql

# One JSON file per section: what the user stored, never secrets (hashes, TOTP secrets, push tokens).
SECTIONS: tuple[tuple[str, str], ...] = (
    (
        "profile.json",
        "SELECT id::text, username, email, display_name, bio, avatar_url, role, is_private, locale, timezone, "
        "links, created_at, email_verified_at, totp_enabled AS two_factor_enabled FROM users WHERE id = $1",
    ),
    (
        "posts.json",
        "SELECT id::text, text, visibility, hashtags, repost_of::text, like_count, comment_count, created_at, "
        "edited_at FROM posts WHERE author = $1 AND deleted_at IS NULL ORDER BY id",
    ),
    (
        "comments.json",
        "SELECT id::text, post::text, parent::text, text, created_at FROM comments "
        "WHERE author = $1 AND deleted_at IS NULL ORDER BY id",
    ),
    ("likes.json", 'SELECT post::text, created_at FROM post_likes WHERE "user" = $1 ORDER BY id'),
    ("bookmarks.json", 'SELECT post::text, created_at FROM bookmarks WHERE "user" = $1 ORDER BY id'),
    (
        "following.json",
        "SELECT u.username, f.created_at FROM follows f JOIN users u ON u.id = f.followee "
        "WHERE f.follower = $1 ORDER BY f.id",
    ),
    (
        "followers.json",
        "SELECT u.username, f.created_at FROM follows f JOIN users u ON u.id = f.follower "
        "WHERE f.followee = $1 ORDER BY f.id",
    ),
    (
        "notifications.json",
        "SELECT n.id::text, n.type, a.username AS actor, n.subject_type, n.subject_id::text, n.created_at, "
        "n.read_at FROM notifications n LEFT JOIN users a ON a.id = n.actor WHERE n.recipient = $1 ORDER BY n.id",
    ),
    (
        "sessions.json",
        'SELECT id::text, ip, user_agent, created_at, last_used_at, revoked_at FROM auth_sessions WHERE "user" = $1 '
        "ORDER BY id",
    ),
    (
        "security_log.json",
        'SELECT action, ip, user_agent, created_at FROM audit_events WHERE "user" = $1 ORDER BY id',
    ),
    ("devices.json", 'SELECT platform, device_id, created_at FROM push_tokens WHERE "user" = $1 ORDER BY id'),
    ("media.json", "SELECT id::text, post::text, url, width, height, created_at FROM post_media WHERE owner = $1"),
    (
        "payments.json",
        "SELECT p.id::text, p.kind, p.status, p.amount, p.currency, p.fee, p.refunded, p.message, "
        "payer.username AS payer, recipient.username AS recipient, p.created_at FROM payments p "
        "JOIN users payer ON payer.id = p.payer JOIN users recipient ON recipient.id = p.recipient "
        "WHERE p.payer = $1 OR p.recipient = $1 ORDER BY p.id",
    ),
    (
        "subscriptions.json",
        "SELECT s.id::text, c.username AS creator, t.name AS tier, t.amount, t.currency, t.interval, s.status, "
        "s.current_period_end, s.created_at, s.ended_at FROM fan_subscriptions s JOIN users c ON c.id = s.creator "
        "JOIN subscription_tiers t ON t.id = s.tier WHERE s.subscriber = $1 ORDER BY s.id",
    ),
    (
        "tiers.json",
        "SELECT id::text, name, description, amount, currency, interval, created_at FROM subscription_tiers "
        "WHERE creator = $1 ORDER BY id",
    ),
    ("payouts.json", "SELECT id::text, amount, currency, status, created_at FROM payouts WHERE creator = $1"),
)


async def export_section(query: str, user_id: int) -> list[dict[str, Any]]:
    """The rows of one of ``SECTIONS``' queries for ``user_id``, as plain dicts (they are encoded to JSON)."""
    return [dict(r) for r in await sql.fetch(query, user_id)]


async def lock_user_exports(user_id: int) -> None:
    """Transaction-scoped advisory lock serializing one user's export requests (two clicks make one export)."""
    await sql.execute("SELECT pg_advisory_xact_lock(24337, hashtext($1))", str(user_id))


async def download_state(export_id: int, session_id: int) -> Any:
    """What a download link is checked against: the export, its owner's password hash and suspension, and
    whether ``session_id`` is a live session of that owner (one round trip on an unauthenticated route)."""
    return await sql.fetchrow(
        "SELECT d.status, d.file_name, u.password_hash, u.suspended_at, s.id IS NOT NULL AS session_live "
        'FROM data_exports d JOIN users u ON u.id = d."user" LEFT JOIN auth_sessions s ON s.id = $2 '
        'AND s."user" = d."user" AND s.revoked_at IS NULL AND s.expires_at > now() WHERE d.id = $1',
        export_id,
        session_id,
    )


async def expire_export_files() -> list[str]:
    """Forget the file of every export whose link expired; the file names, for deleting them."""
    rows = await sql.fetch(
        "WITH old AS (SELECT id, file_name FROM data_exports WHERE expires_at < now() AND file_name IS NOT NULL "
        "FOR UPDATE) UPDATE data_exports d SET file_name = NULL FROM old WHERE d.id = old.id "
        "RETURNING old.file_name AS old_name",
    )
    return [r["old_name"] for r in rows]


# -- deletion --------------------------------------------------------------------------------------------


async def schedule_deletion(user_id: int, requested_at: datetime, purge_after: datetime) -> None:
    """Record (or renew) the user's deletion request (an upsert on the one row per user)."""
    await sql.execute(
        'INSERT INTO account_deletions ("user", requested_at, purge_after) VALUES ($1, $2, $3) '
        'ON CONFLICT ("user") DO UPDATE SET requested_at = EXCLUDED.requested_at, purge_after = EXCLUDED.purge_after',
        user_id,
        requested_at,
        purge_after,
    )


async def cancel_deletion(user_id: int) -> bool:
    """Drop the user's deletion request; ``False`` when there was none."""
    return bool(sql.changed(await sql.execute('DELETE FROM account_deletions WHERE "user" = $1', user_id)))


_DUE = 'SELECT "user" FROM account_deletions WHERE "user" = $1 AND purge_after <= now()'
_DUE_LOCKED = _DUE + " FOR UPDATE"


async def deletion_due(user_id: int, *, lock: bool = False) -> bool:
    """Whether the user's grace period is over (``lock``: and hold their request row until commit)."""
    return await sql.fetchval(_DUE_LOCKED if lock else _DUE, user_id) is not None


async def due_deletions() -> list[int]:
    """Every user whose grace period is over."""
    rows = await sql.fetch('SELECT "user" FROM account_deletions WHERE purge_after <= now()')
    return [r["user"] for r in rows]


async def insert_placeholder_user(user_id: int, username: str, email: str, password_hash: str) -> None:
    """The suspended account anonymized content moves to (``ON CONFLICT``: two purges may race to make it)."""
    await sql.execute(
        "INSERT INTO users (id, username, email, email_normalized, password_hash, display_name, bio, role, "
        "is_private, locale, timezone, suspended_at, totp_enabled, followers_count, following_count, posts_count, "
        "links, created_at, updated_at) VALUES ($1, $2, $3, $3, $4, 'Deleted user', '', 'user', false, 'en', "
        "'UTC', now(), false, 0, 0, 0, '[]'::jsonb, now(), now()) ON CONFLICT DO NOTHING",
        user_id,
        username,
        email,
        password_hash,
    )


async def open_subscriptions(user_id: int) -> list[str]:
    """Stripe ids of the unended subscriptions the user pays or is paid by."""
    rows = await sql.fetch(
        "SELECT subscription_id FROM fan_subscriptions WHERE (subscriber = $1 OR creator = $1) AND ended_at IS NULL",
        user_id,
    )
    return [str(r["subscription_id"]) for r in rows]


async def keep_money_records(user_id: int, placeholder: int) -> None:
    """End the user's subscriptions and move the money records they are party to onto ``placeholder``."""
    await sql.execute(
        "UPDATE fan_subscriptions SET status = 'canceled', ended_at = now(), cancel_at_period_end = false, "
        "access_until = LEAST(access_until, now()) WHERE (subscriber = $1 OR creator = $1) AND ended_at IS NULL",
        user_id,
    )
    for statement in (
        "UPDATE fan_subscriptions SET creator = $1 WHERE creator = $2",
        "UPDATE subscription_tiers SET creator = $1 WHERE creator = $2",
        "UPDATE payments SET payer = $1 WHERE payer = $2",
        "UPDATE payments SET recipient = $1 WHERE recipient = $2",
        "UPDATE payment_refunds SET requested_by = $1 WHERE requested_by = $2",
        "UPDATE payouts SET creator = $1 WHERE creator = $2",
    ):
        await sql.execute(statement, placeholder, user_id)


async def move_foreign_comments(user_id: int, placeholder: int) -> None:
    """The user's comments in other people's threads move to ``placeholder`` (the rest goes with the account)."""
    await sql.execute(
        "UPDATE comments SET author = $1 WHERE author = $2 AND post IN (SELECT id FROM posts WHERE author <> $2)",
        placeholder,
        user_id,
    )


async def uncount_user(user_id: int) -> None:
    """Take the user out of the counters others see: their followees' followers, their followers' followees,
    and the likes on other people's posts."""
    await sql.execute(
        "UPDATE users u SET followers_count = greatest(u.followers_count - 1, 0) FROM follows f "
        "WHERE f.follower = $1 AND u.id = f.followee",
        user_id,
    )
    await sql.execute(
        "UPDATE users u SET following_count = greatest(u.following_count - 1, 0) FROM follows f "
        "WHERE f.followee = $1 AND u.id = f.follower",
        user_id,
    )
    await sql.execute(
        'UPDATE posts p SET like_count = greatest(p.like_count - 1, 0) FROM post_likes l WHERE l."user" = $1 '
        "AND p.id = l.post AND p.author <> $1",
        user_id,
    )


async def media_urls(user_id: int) -> list[str]:
    """Every media URL the user uploaded, and their avatar's."""
    rows = await sql.fetch(
        "SELECT url FROM post_media WHERE owner = $1 UNION ALL "
        "SELECT avatar_url FROM users WHERE id = $1 AND avatar_url IS NOT NULL",
        user_id,
    )
    return [r["url"] for r in rows]
