"""Notifications' raw SQL: reads of other domains' tables, and the set-based statements of its own.

Raw, through ``server.sql``, because each one joins or filters across tables another domain owns
(users, follows, blocks, mutes, fan subscriptions, sessions), is an aggregate (groups, counts), or is an
upsert / ``ON CONFLICT DO NOTHING RETURNING`` / ``FOR UPDATE SKIP LOCKED`` batch the query builder does not
express. Ordinary reads and writes of notifications' own tables use Piccolo. Values are always bind
parameters ($n).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models.ids import new_id
from server import sql
from server.social.queries.visibility import blocked_either_way

USER_PUBLIC_COLUMNS = (
    "id, username, display_name, avatar_url, bio, followers_count, following_count, posts_count, "
    "is_private, role, created_at"
)


async def users_public(ids: list[int]) -> list[Any]:
    """Rows for ``accounts.schemas.user_public`` (actors shown on notifications)."""
    return await sql.fetch(f"SELECT {USER_PUBLIC_COLUMNS} FROM users WHERE id = ANY($1)", ids)  # noqa: S608 — constant columns


async def display_name(user_id: int) -> str | None:
    """What a push title calls ``user_id``: the display name, else the username; ``None`` if gone."""
    row = await sql.fetchrow("SELECT username, display_name FROM users WHERE id = $1", user_id)
    if row is None:
        return None
    return str(row["display_name"] or row["username"])


async def email_of(user_id: int) -> str:
    return str(await sql.fetchval("SELECT email FROM users WHERE id = $1", user_id))


async def followers_of(user_id: int) -> list[int]:
    """Who follows ``user_id`` (social's ``follows``): told when they go live."""
    rows = await sql.fetch("SELECT follower FROM follows WHERE followee = $1", user_id)
    return [r["follower"] for r in rows]


async def author_subscribers(author_id: int) -> list[int]:
    """Who rang the bell on ``author_id``'s profile."""
    rows = await sql.fetch('SELECT "user" FROM author_subscriptions WHERE author = $1', author_id)
    return [r["user"] for r in rows]


async def subscribe_author(user_id: int, author_id: int) -> None:
    """Ring the bell (idempotent: the unique (user, author) index absorbs a repeat)."""
    await sql.execute(
        'INSERT INTO author_subscriptions (id, "user", author, created_at) VALUES ($1, $2, $3, now()) '
        "ON CONFLICT DO NOTHING",
        new_id(),
        user_id,
        author_id,
    )


async def subscribed_authors(user_id: int) -> list[Any]:
    """The users whose bell ``user_id`` rang, newest first (at most 1000)."""
    return await sql.fetch(
        "SELECT u.* FROM author_subscriptions s JOIN users u ON u.id = s.author "
        'WHERE s."user" = $1 ORDER BY s.id DESC LIMIT 1000',
        user_id,
    )


async def preferences_row(user_id: int) -> Any | None:
    """The user's saved preferences merged with their account's time zone and locale; ``None``: no user."""
    return await sql.fetchrow(
        "SELECT p.matrix, p.quiet_start, p.quiet_end, coalesce(p.timezone, u.timezone) AS timezone, "
        "coalesce(p.push_while_online, false) AS push_while_online, u.locale "
        "FROM users u LEFT JOIN notification_preferences p ON p.user = u.id WHERE u.id = $1",
        user_id,
    )


async def digest_candidates(away_since: datetime) -> list[int]:
    """Users with unread, unmailed notifications, away (no session used, no digest) since ``away_since``."""
    rows = await sql.fetch(
        "SELECT DISTINCT n.recipient AS user_id FROM notifications n JOIN users u ON u.id = n.recipient "
        "LEFT JOIN notification_preferences p ON p.user = u.id "
        "WHERE n.read_at IS NULL AND n.emailed_at IS NULL AND u.suspended_at IS NULL "
        "AND coalesce((SELECT max(s.last_used_at) FROM auth_sessions s WHERE s.user = u.id), u.created_at) < $1 "
        "AND (p.last_digest_at IS NULL OR p.last_digest_at < $1) LIMIT 500",
        away_since,
    )
    return [r["user_id"] for r in rows]


async def unmailed_for_digest(user_id: int) -> list[Any]:
    """The user's unread, unmailed notifications with their actor's name, locked (two digest jobs never share)."""
    return await sql.fetch(
        "SELECT n.id, n.type, n.group_key, coalesce(nullif(a.display_name, ''), a.username) AS actor "
        "FROM notifications n LEFT JOIN users a ON a.id = n.actor WHERE n.recipient = $1 "
        "AND n.read_at IS NULL AND n.emailed_at IS NULL ORDER BY n.id DESC FOR UPDATE OF n SKIP LOCKED",
        user_id,
    )


async def mark_digest_sent(user_id: int) -> None:
    await sql.execute(
        'INSERT INTO notification_preferences ("user", last_digest_at) VALUES ($1, now()) '
        'ON CONFLICT ("user") DO UPDATE SET last_digest_at = now()',
        user_id,
    )


async def mark_emailed(ids: list[int]) -> None:
    await sql.execute("UPDATE notifications SET emailed_at = now() WHERE id = ANY($1)", ids)


async def save_preferences(
    user_id: int, matrix_json: str, quiet_start: Any, quiet_end: Any, timezone: str | None, push_while_online: bool
) -> None:
    """Upsert the user's one preferences row (raw: ``ON CONFLICT ... DO UPDATE``)."""
    await sql.execute(
        'INSERT INTO notification_preferences ("user", matrix, quiet_start, quiet_end, timezone, '
        "push_while_online, updated_at) VALUES ($1, $2::jsonb, $3, $4, $5, $6, now()) "
        'ON CONFLICT ("user") DO UPDATE SET matrix = excluded.matrix, quiet_start = excluded.quiet_start, '
        "quiet_end = excluded.quiet_end, timezone = excluded.timezone, "
        "push_while_online = excluded.push_while_online, updated_at = now()",
        user_id,
        matrix_json,
        quiet_start,
        quiet_end,
        timezone,
        push_while_online,
    )


async def upsert_push_token(
    user_id: int,
    platform: str,
    token: str,
    token_hash: str,
    keys_json: str,
    environment: str,
    device_id: str | None,
    locale: str | None,
) -> Any:
    """Register a token or refresh it (raw: ``ON CONFLICT (token_hash)`` moves it to its new owner)."""
    return await sql.fetchrow(
        'INSERT INTO push_tokens (id, "user", platform, token, token_hash, keys, environment, device_id, '
        "locale, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, now(), now()) "
        'ON CONFLICT (token_hash) DO UPDATE SET "user" = excluded."user", keys = excluded.keys, '
        "environment = excluded.environment, device_id = excluded.device_id, locale = excluded.locale, "
        "last_seen_at = now(), "
        # Same device, new login: a new owner makes it a new registration.
        'created_at = CASE WHEN push_tokens."user" = excluded."user" '
        "THEN push_tokens.created_at ELSE now() END "
        "RETURNING *",
        new_id(),
        user_id,
        platform,
        token,
        token_hash,
        keys_json,
        environment,
        device_id,
        locale,
    )


async def drop_device_tokens(user_id: int, platform: str, device_id: str, *, keep: int) -> None:
    """The device's other tokens of ``platform`` (an app that got a fresh token: the old one is dead)."""
    await sql.execute(
        'DELETE FROM push_tokens WHERE "user" = $1 AND platform = $2 AND device_id = $3 AND id <> $4',
        user_id,
        platform,
        device_id,
        keep,
    )


async def keep_newest_push_tokens(user_id: int, cap: int) -> None:
    """Delete all but the ``cap`` most recently seen tokens of the user (raw: a set-based delete)."""
    await sql.execute(
        'DELETE FROM push_tokens WHERE "user" = $1 AND id NOT IN (SELECT id FROM push_tokens '
        'WHERE "user" = $1 ORDER BY last_seen_at DESC, id DESC LIMIT $2)',
        user_id,
        cap,
    )


async def delete_push_token(user_id: int, token_id: int) -> bool:
    """Delete one of the user's tokens; False when it is not theirs (or not there)."""
    return (
        sql.changed(await sql.execute('DELETE FROM push_tokens WHERE id = $1 AND "user" = $2', token_id, user_id)) > 0
    )


# -- the social graph, as notifications see it ---------------------------------------------------------


async def is_silenced(recipient_id: int, actor_id: int) -> bool:
    """Whether nothing from ``actor_id`` may reach ``recipient_id`` (a block either way, or a mute)."""
    return bool(
        await sql.fetchval(
            "SELECT " + blocked_either_way("$1", "$2") + " OR EXISTS "  # noqa: S608 — social's constant block predicate; values are $n
            "(SELECT 1 FROM mutes WHERE muter = $1 AND muted = $2)",
            recipient_id,
            actor_id,
        )
    )


# -- notifications: one insert per (recipient, group), pages, groups, read marks ----------------------------


async def insert_notification(
    nid: int,
    recipient_id: int,
    type_: str,
    actor_id: int | None,
    subject_type: str,
    subject_id: int,
    group_key: str,
    extra_json: str,
    created_at: datetime,
) -> dict[str, Any] | None:
    """The new notification's row; ``None`` when the same one exists (a unique index absorbs the repeat)."""
    row = await sql.fetchrow(
        "INSERT INTO notifications (id, recipient, type, actor, subject_type, subject_id, group_key, extra, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9) ON CONFLICT DO NOTHING RETURNING *",
        nid,
        recipient_id,
        type_,
        actor_id,
        subject_type,
        subject_id,
        group_key,
        extra_json,
        created_at,
    )
    return dict(row) if row is not None else None


async def notifications_page(user_id: int, types: list[str], before: int | None, n: int) -> list[Any]:
    """The user's notifications of ``types`` below id ``before`` (``None``: from the newest), newest first."""
    return await sql.fetch(
        "SELECT * FROM notifications WHERE recipient = $1 AND type = ANY($2) AND ($3::bigint IS NULL OR id < $3) "
        "ORDER BY id DESC LIMIT $4",
        user_id,
        types,
        before,
        n,
    )


async def notification_groups_page(user_id: int, types: list[str], before: int | None, n: int) -> list[Any]:
    """The user's notifications of ``types`` collapsed by group key, groups whose latest id is below ``before``,
    newest group first: counts, whether all are read, and up to three latest actors (``sample``)."""
    return await sql.fetch(
        "SELECT group_key, min(type) AS type, min(subject_type) AS subject_type, min(subject_id) AS subject_id, "
        "max(id) AS latest_id, max(created_at) AS latest_at, count(*) AS n, "
        "count(DISTINCT actor) AS actors_count, bool_and(read_at IS NOT NULL) AS read, "
        "(array_agg(actor ORDER BY id DESC) FILTER (WHERE actor IS NOT NULL))[1:3] AS sample "
        "FROM notifications WHERE recipient = $1 AND type = ANY($2) GROUP BY group_key "
        "HAVING $3::bigint IS NULL OR max(id) < $3 ORDER BY max(id) DESC LIMIT $4",
        user_id,
        types,
        before,
        n,
    )


async def unread_count(user_id: int) -> int:
    return int(
        await sql.fetchval("SELECT count(*) FROM notifications WHERE recipient = $1 AND read_at IS NULL", user_id)
    )


async def owned_count(user_id: int, ids: list[int]) -> int:
    """How many of ``ids`` are notifications of ``user_id``."""
    return int(
        await sql.fetchval("SELECT count(*) FROM notifications WHERE recipient = $1 AND id = ANY($2)", user_id, ids)
    )


async def mark_all_read(user_id: int) -> list[int]:
    """Mark every unread notification of the user read; the ids that changed."""
    rows = await sql.fetch(
        "UPDATE notifications SET read_at = now() WHERE recipient = $1 AND read_at IS NULL RETURNING id", user_id
    )
    return [r["id"] for r in rows]


async def mark_read(user_id: int, ids: list[int]) -> list[int]:
    """Mark the user's unread notifications among ``ids`` read; the ids that changed."""
    rows = await sql.fetch(
        "UPDATE notifications SET read_at = now() WHERE recipient = $1 AND id = ANY($2) AND read_at IS NULL "
        "RETURNING id",
        user_id,
        ids,
    )
    return [r["id"] for r in rows]


# -- pushes: a collapsed group's unpushed rows, its counts, the user's devices ------------------------------


async def take_unpushed(user_id: int, group_key: str) -> list[Any]:
    """The group's not yet pushed notifications, newest first, locked (``SKIP LOCKED``: two push jobs of one
    group never share) and marked pushed, in the caller's transaction."""
    rows = await sql.fetch(
        "SELECT n.id, n.type, n.read_at, n.actor, n.extra FROM notifications n WHERE n.recipient = $1 "
        "AND n.group_key = $2 AND n.pushed_at IS NULL ORDER BY n.id DESC FOR UPDATE SKIP LOCKED",
        user_id,
        group_key,
    )
    if rows:
        await sql.execute("UPDATE notifications SET pushed_at = now() WHERE id = ANY($1)", [r["id"] for r in rows])
    return rows


async def group_push_stats(user_id: int, group_key: str) -> Any:
    """The group's unread ``actors`` and ``n``, and the user's whole ``unread`` count (the badge)."""
    return await sql.fetchrow(
        "SELECT count(DISTINCT actor) AS actors, count(*) AS n, "
        "(SELECT count(*) FROM notifications WHERE recipient = $1 AND read_at IS NULL) AS unread "
        "FROM notifications WHERE recipient = $1 AND group_key = $2 AND read_at IS NULL",
        user_id,
        group_key,
    )


async def push_token(token_id: int) -> dict[str, Any] | None:
    """The token's row, as its provider reads it; ``None`` once pruned."""
    row = await sql.fetchrow("SELECT * FROM push_tokens WHERE id = $1", token_id)
    return dict(row) if row is not None else None


async def push_token_locales(user_id: int) -> list[Any]:
    """``id, locale`` of each of the user's push tokens."""
    return await sql.fetch('SELECT id, locale FROM push_tokens WHERE "user" = $1', user_id)


async def prune_push_token(token_id: int) -> None:
    """Forget a token its provider said is gone for good."""
    await sql.execute("DELETE FROM push_tokens WHERE id = $1", token_id)
