"""The SQL live needs: who may see a stream (one predicate), the room's state for a publish, chat pages.

Raw SQL because each of these is one round trip on a hot path (every chat line, every subscribe) that
the builder would split into several.
"""

from __future__ import annotations

from typing import Any

from server.social import sql
from server.social.views import USER_COLS

STAFF = ("moderator", "admin")

# $1 is the viewer (0 for anonymous), ``s`` the stream. Staff see every stream (they moderate them).
VISIBLE = (
    "(s.owner = $1 OR (SELECT role FROM users WHERE id = $1) IN ('moderator', 'admin') OR ("
    "NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker = $1 AND b.blocked = s.owner) "
    "OR (b.blocker = s.owner AND b.blocked = $1)) AND (s.visibility = 'public' OR (s.visibility = 'followers' "
    "AND EXISTS (SELECT 1 FROM follows f WHERE f.follower = $1 AND f.followee = s.owner)))))"
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
            f"SELECT EXISTS (SELECT 1 FROM live_streams s WHERE s.id = $2 AND {VISIBLE})", viewer, stream_id
        )
    )


async def room_state(user_id: int, stream_id: int) -> Any:
    """Everything a chat publish is judged on, in one round trip (``None`` when there is no such stream)."""
    return await sql.fetchrow(
        f"SELECT s.status, s.owner, s.slow_mode_seconds, {VISIBLE} AS visible, "
        "(SELECT role FROM users WHERE id = $1) AS role, "
        'EXISTS (SELECT 1 FROM live_bans lb WHERE lb.stream = s.id AND lb."user" = $1 '
        "AND (lb.until IS NULL OR lb.until > now())) AS banned "
        "FROM live_streams s WHERE s.id = $2",
        user_id,
        stream_id,
    )


CHAT_USER = "u.id AS u_id, u.username AS u_username, u.display_name AS u_display_name, u.avatar_url AS u_avatar_url"


async def chat_page(stream_id: int, before: int | None, limit: int) -> list[Any]:
    """Undeleted chat lines and tips, newest first, older than ``before``."""
    return await sql.fetch(
        f"SELECT m.id, m.kind, m.text, m.amount, m.currency, m.created_at, m.author, {CHAT_USER} "
        "FROM live_chat_messages m LEFT JOIN users u ON u.id = m.author "
        "WHERE m.stream = $1 AND m.deleted_at IS NULL AND ($2::bigint IS NULL OR m.id < $2) "
        "ORDER BY m.id DESC LIMIT $3",
        stream_id,
        before,
        limit,
    )


async def chat_user(user_id: int) -> Any:
    return await sql.fetchrow(f"SELECT {CHAT_USER} FROM users u WHERE u.id = $1", user_id)
