"""The SQL live needs: who may see a stream (one predicate), the room's state for a publish, chat pages.

Raw SQL because each of these is one round trip on a hot path (every chat line, every subscribe) that
the builder would split into several.
"""

from __future__ import annotations

from typing import Any

from server import sql
from server.outbox import EMIT_LOCK, NOTIFY_CHANNEL
from server.social.queries.columns import USER_COLS
from server.social.queries.visibility import blocked_either_way

# _CHAT_AND_EMIT spells the outbox's emit lock out: it must stay the same lock.
assert EMIT_LOCK == (0x5F10, 1)

CHAT_USER = "u.id AS u_id, u.username AS u_username, u.display_name AS u_display_name, u.avatar_url AS u_avatar_url"

# $1 is the viewer (0 for anonymous), ``s`` the stream. Staff see every stream (they moderate them). As for
# posts and videos, a private account's public stream is for its followers, and a suspended owner's
# streams are nobody's (the owner row is read by id: the callers join ``users`` for other purposes).
VISIBLE = (
    "(s.owner = $1 OR (SELECT role FROM users WHERE id = $1) IN ('moderator', 'admin') OR ("  # noqa: S608 — constant predicates from this module and social.queries; values are $n
    "NOT " + blocked_either_way("$1", "s.owner") + " AND EXISTS (SELECT 1 FROM users so WHERE so.id = s.owner "
    "AND so.suspended_at IS NULL AND ((s.visibility = 'public' AND NOT so.is_private) "
    "OR (s.visibility IN ('public', 'followers') "
    "AND EXISTS (SELECT 1 FROM follows f WHERE f.follower = $1 AND f.followee = s.owner))))))"
)

_STREAM_COLS = (
    "s.id, s.owner, s.title, s.visibility, s.status, s.slow_mode_seconds, s.started_at, s.ended_at, "
    "s.current_viewers, s.peak_viewers, s.replay_video, s.created_at, "
    + ", ".join(f"o.{c} AS o_{c}" for c in USER_COLS.split(", "))
)
_FROM = "FROM live_streams s JOIN users o ON o.id = s.owner"


async def visible_stream(viewer: int, stream_id: int) -> Any:
    """The stream with its owner's columns (``o_*``) if ``viewer`` may see it, else ``None``."""
    return await sql.fetchrow(f"SELECT {_STREAM_COLS} {_FROM} WHERE s.id = $2 AND {VISIBLE}", viewer, stream_id)


async def live_streams(viewer: int, before: int | None, limit: int) -> list[Any]:
    """Live streams ``viewer`` may see, newest first (the partial status index keeps this small)."""
    return await sql.fetch(
        f"SELECT {_STREAM_COLS} {_FROM} WHERE s.status = 'live' AND ($2::bigint IS NULL OR s.id < $2) "
        f"AND {VISIBLE} ORDER BY s.id DESC LIMIT $3",
        viewer,
        before,
        limit,
    )


async def can_see(viewer: int, stream_id: int) -> bool:
    return bool(
        await sql.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM live_streams s WHERE s.id = $2 AND {VISIBLE})",  # noqa: S608 — constant predicates from this module and social.queries; values are $n
            viewer,
            stream_id,
        )
    )


async def room_state(user_id: int, stream_id: int) -> Any:
    """Everything a chat publish is judged on, and its author, in one round trip (``None``: no such stream)."""
    return await sql.fetchrow(
        f"SELECT s.status, s.owner, s.slow_mode_seconds, {VISIBLE} AS visible, u.role, "  # noqa: S608 — constant predicates from this module and social.queries; values are $n
        'EXISTS (SELECT 1 FROM live_bans lb WHERE lb.stream = s.id AND lb."user" = $1 '
        "AND (lb.until IS NULL OR lb.until > now())) AS banned, "
        f"{CHAT_USER} FROM live_streams s, users u WHERE s.id = $2 AND u.id = $1",
        user_id,
        stream_id,
    )


# One statement, so one round trip and one transaction: the outbox's emit lock first (see server.outbox:
# taken before any outbox id is drawn, held to commit), then the chat row, then its outbox event.
_CHAT_AND_EMIT = (
    "WITH emit_lock AS (SELECT pg_advisory_xact_lock(24336, 1)), "  # noqa: S608 — built from this module's constants; values are $n
    "msg AS (INSERT INTO live_chat_messages (id, stream, author, kind, text, created_at) "
    "SELECT $1, $2, $3, 'chat', $4, $5 FROM emit_lock RETURNING id), "
    "ev AS (INSERT INTO outbox_events (channel, event, data, actor, created_at) "
    "SELECT $6, 'chat.message', $7::jsonb, $3, now() FROM msg RETURNING id) "
    f"SELECT pg_notify('{NOTIFY_CHANNEL}', '') FROM ev"
)


async def insert_chat(
    message_id: int, stream_id: int, author: int, text: str, created_at: Any, channel: str, event: bytes
) -> None:
    """Store a chat line and queue its ``chat.message`` event, atomically, in one round trip."""
    await sql.execute(_CHAT_AND_EMIT, message_id, stream_id, author, text, created_at, channel, event.decode())


async def chat_page(viewer: int, stream_id: int, before: int | None, limit: int) -> list[Any]:
    """Undeleted chat lines and tips, newest first, older than ``before``, without those of users in a
    block relation with ``viewer`` (as the room's channel hides them)."""
    return await sql.fetch(
        f"SELECT m.id, m.kind, m.text, m.amount, m.currency, m.created_at, m.author, {CHAT_USER} "  # noqa: S608 — constant predicates from this module and social.queries; values are $n
        "FROM live_chat_messages m LEFT JOIN users u ON u.id = m.author "
        "WHERE m.stream = $1 AND m.deleted_at IS NULL AND ($2::bigint IS NULL OR m.id < $2) "
        f"AND NOT {blocked_either_way('$4', 'm.author')} "
        "ORDER BY m.id DESC LIMIT $3",
        stream_id,
        before,
        limit,
        viewer,
    )


# -- the media server's hooks, replays, tips ---------------------------------------------------------------
# Raw for row locks (FOR UPDATE: a publish and its done never interleave), conditional transitions whose
# RETURNING says whether they happened, and a tip's row made from the payment's in one statement.


async def lock_stream_by_key(key_hash: str) -> Any:
    """``id, owner, visibility, status`` of the stream with this key, locked until commit; ``None``: no such key."""
    return await sql.fetchrow(
        "SELECT id, owner, visibility, status FROM live_streams WHERE key_hash = $1 FOR UPDATE", key_hash
    )


async def go_live(stream_id: int, client_id: str) -> Any:
    """Mark the stream live on the media server's connection ``client_id`` (``started_at`` kept from the first
    time); its ``id, status, started_at, ended_at``."""
    return await sql.fetchrow(
        "UPDATE live_streams SET status = 'live', started_at = COALESCE(started_at, now()), client_id = $2 "
        "WHERE id = $1 RETURNING id, status, started_at, ended_at",
        stream_id,
        client_id,
    )


async def lock_stream_state(*, stream_id: int | None = None, key_hash: str | None = None) -> Any:
    """``id, status, client_id`` of the stream (by id, else by key), locked until commit; ``None``: no such."""
    if stream_id is not None:
        return await sql.fetchrow("SELECT id, status, client_id FROM live_streams WHERE id = $1 FOR UPDATE", stream_id)
    return await sql.fetchrow("SELECT id, status, client_id FROM live_streams WHERE key_hash = $1 FOR UPDATE", key_hash)


async def end_stream(stream_id: int, from_status: list[str]) -> Any:
    """End the stream if it is in one of ``from_status``; its ``id, owner, status, started_at, ended_at,
    client_id`` as it was ended, or ``None`` when it was in another state."""
    return await sql.fetchrow(
        "UPDATE live_streams SET status = 'ended', ended_at = now(), current_viewers = 0 "
        "WHERE id = $1 AND status = ANY($2::text[]) RETURNING id, owner, status, started_at, ended_at, client_id",
        stream_id,
        from_status,
    )


async def replay_source(stream_id: int) -> Any:
    """``owner, title, visibility, replay_video`` of the stream, or ``None``."""
    return await sql.fetchrow(
        "SELECT owner, title, visibility, replay_video FROM live_streams WHERE id = $1", stream_id
    )


async def set_replay(stream_id: int, video_id: int) -> None:
    """Link the replay, unless the stream has one (a second record_done racing keeps the first)."""
    await sql.execute(
        "UPDATE live_streams SET replay_video = $2 WHERE id = $1 AND replay_video IS NULL", stream_id, video_id
    )


async def insert_tip_line(row_id: int, payment_id: int, amount: int, currency: str) -> None:
    """The tip's line in its stream's chat, from the payment (once per payment; nothing when the payment names
    no stream, or one that does not exist)."""
    await sql.execute(
        "INSERT INTO live_chat_messages (id, stream, author, kind, text, amount, currency, payment_id, created_at) "
        "SELECT $1, p.live_id, p.payer, 'tip', p.message, $3, $4, p.id, now() FROM payments p "
        "WHERE p.id = $2 AND EXISTS (SELECT 1 FROM live_streams s WHERE s.id = p.live_id) "
        "ON CONFLICT (payment_id) DO NOTHING",
        row_id,
        payment_id,
        amount,
        currency,
    )


# --- the runtime's viewer counts (live/runtime.py) ---


async def live_stream_viewers() -> list[Any]:
    """``id``, ``owner`` and ``current_viewers`` of every live stream (the partial status index serves it)."""
    return await sql.fetch("SELECT id, owner, current_viewers FROM live_streams WHERE status = 'live'")


async def set_viewers(stream_id: int, count: int) -> None:
    """Store a live stream's viewer count and raise its peak."""
    await sql.execute(
        "UPDATE live_streams SET current_viewers = $2, peak_viewers = GREATEST(peak_viewers, $2) "
        "WHERE id = $1 AND status = 'live'",
        stream_id,
        count,
    )
