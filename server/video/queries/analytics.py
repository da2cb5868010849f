"""View sessions, counted views and the owner's aggregates (totals, retention)."""

from __future__ import annotations

from typing import Any

from server import sql

# Raw for the session row lock, ON CONFLICT on (video, session_id), bit-or of watched slices, a counter read
# back with RETURNING, and aggregates (FILTER, generate_series) the builder does not spell.


async def lock_view_session(video_id: int, session_id: str) -> Any:
    """The viewing session's ``id, viewer_key, watched, counted_at, age`` (seconds), locked until commit."""
    return await sql.fetchrow(
        "SELECT id, viewer_key, watched, counted_at, extract(epoch FROM now() - created_at) AS age "
        "FROM video_views WHERE video = $1 AND session_id = $2 FOR UPDATE",
        video_id,
        session_id,
    )


async def insert_view_session(
    row_id: int, video_id: int, viewer: int | None, viewer_key: str, session_id: str, watched: float, slices: int
) -> Any:
    """A new viewing session; its ``id, counted_at``, or ``None`` when a concurrent beat made it first."""
    return await sql.fetchrow(
        "INSERT INTO video_views (id, video, viewer, viewer_key, session_id, watched, slices, "
        "in_view_count, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, now(), now()) "
        "ON CONFLICT (video, session_id) DO NOTHING RETURNING id, counted_at",
        row_id,
        video_id,
        viewer,
        viewer_key,
        session_id,
        watched,
        slices,
    )


async def extend_view_session(session: int, watched: float, slices: int) -> None:
    """Record more watching: the new total and the slices played (or-ed in)."""
    await sql.execute(
        "UPDATE video_views SET watched = $2, slices = slices | $3, updated_at = now() WHERE id = $1",
        session,
        watched,
        slices,
    )


async def counted_recently(video_id: int, viewer_key: str) -> bool:
    """Whether this viewer's view of the video counted in the last 24 hours."""
    return bool(
        await sql.fetchval(
            "SELECT EXISTS (SELECT 1 FROM video_views WHERE video = $1 AND viewer_key = $2 AND in_view_count = 1 "
            "AND counted_at > now() - interval '24 hours')",
            video_id,
            viewer_key,
        )
    )


async def mark_counted(session: int, in_view_count: bool) -> None:
    """The session became a view (``in_view_count``: and it raised the video's view count)."""
    await sql.execute(
        "UPDATE video_views SET counted_at = now(), in_view_count = $2 WHERE id = $1", session, int(in_view_count)
    )


async def add_view(video_id: int) -> Any:
    """One more view; the video's ``like_count, view_count`` after."""
    return await sql.fetchrow(
        "UPDATE videos SET view_count = view_count + 1 WHERE id = $1 RETURNING like_count, view_count", video_id
    )


async def view_totals(video_id: int) -> Any:
    """``views, uniques, watch_time, counted_time`` over the video's sessions."""
    return await sql.fetchrow(
        "SELECT count(*) FILTER (WHERE counted_at IS NOT NULL) AS views, "
        "count(DISTINCT viewer_key) FILTER (WHERE counted_at IS NOT NULL) AS uniques, "
        "coalesce(sum(watched), 0) AS watch_time, "
        "coalesce(sum(watched) FILTER (WHERE counted_at IS NOT NULL), 0) AS counted_time "
        "FROM video_views WHERE video = $1",
        video_id,
    )


async def retention(video_id: int, slices: int) -> list[Any]:
    """For each of ``slices`` slices (``i``), how many counted sessions played it (``n``), in slice order."""
    return await sql.fetch(
        "SELECT i, count(v.id) FILTER (WHERE (v.slices >> i) & 1 = 1) AS n FROM generate_series(0, $2 - 1) i "
        "LEFT JOIN video_views v ON v.video = $1 AND v.counted_at IS NOT NULL GROUP BY i ORDER BY i",
        video_id,
        slices,
    )
