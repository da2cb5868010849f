"""The video domain's SQL: the one "who may see this video" rule, and the reads the planner needs.

Every read of a video (one object, every list, the media route, the channel policy) goes through
``visible``: change the rule there and it changes everywhere.
"""

from __future__ import annotations

from typing import Any

import msgspec

from server import sql
from server.social.queries.visibility import blocked_either_way

# $1 is the viewer id (0 when anonymous). ``v`` is the video, ``a`` its owner (users row).
_BLOCKED = blocked_either_way("$1", "v.owner")
_FOLLOWS = "EXISTS (SELECT 1 FROM follows f WHERE f.follower = $1 AND f.followee = v.owner)"
_STAFF = "EXISTS (SELECT 1 FROM users st WHERE st.id = $1 AND st.role IN ('moderator', 'admin'))"


def subscriber_access() -> str:
    """SQL: the viewer ($1) may see the owner's ``subscribers`` videos: an active subscription (payments' rule)."""
    from server.payments.queries import subscriber_access as paid_access

    return paid_access("v.owner")


def unlocked() -> str:
    """SQL: viewer $1 may watch video ``v`` past its teaser: it is free, theirs, staff's to review, or bought."""
    from server.payments.queries import bought

    return f"(v.price_amount IS NULL OR v.owner = $1 OR {_STAFF} OR {bought('video_id', 'v.id')})"


def visible(*, staff: bool = False) -> str:
    """SQL predicate: viewer $1 may see video ``v`` (owner ``a``). THE visibility rule of the domain.

    The owner sees their own videos in every state; staff see every live video (moderation). Anyone
    else sees ready, approved videos of owners they are not blocked with (either way): public and
    unlisted ones (public accounts; followers only for a private account), followers-only ones when
    following, subscribers-only ones with ``subscriber_access``. A suspended owner's videos are nobody's
    to see but staff's (as their posts: ``server.social.queries.visibility.VISIBLE``).
    """
    if staff:
        return "v.deleted_at IS NULL"
    return (
        "v.deleted_at IS NULL AND a.suspended_at IS NULL AND (v.owner = $1 OR ("
        f"v.status = 'ready' AND v.moderation = 'approved' AND NOT {_BLOCKED} AND ("
        f"(v.visibility IN ('public', 'unlisted') AND (NOT a.is_private OR {_FOLLOWS}))"
        f" OR (v.visibility = 'followers' AND {_FOLLOWS})"
        f" OR (v.visibility = 'subscribers' AND {subscriber_access()}))))"
    )


def listed(*, staff: bool = False) -> str:
    """``visible`` and meant for lists: ready, and not unlisted (unless it is the viewer's own)."""
    return f"{visible(staff=staff)} AND v.status = 'ready' AND (v.visibility <> 'unlisted' OR v.owner = $1)"


# Constant columns and the constant unlocked() rule: nothing from a request is spliced in.
VIDEO_COLS = (
    "v.id, v.owner, v.title, v.description, v.tags, v.visibility, v.status, v.failure_reason, v.moderation, "  # noqa: S608
    "v.duration, v.width, v.height, v.renditions, v.thumbnail, v.view_count, v.like_count, v.created_at, "
    "v.published_at, v.post, v.upload_length, v.upload_offset, v.job_id, v.source_path, v.size_bytes, "
    "v.price_amount, v.price_currency, " + unlocked() + " AS unlocked, "
    "a.username AS a_username, a.display_name AS a_display_name, a.avatar_url AS a_avatar_url, "
    "a.followers_count AS a_followers_count, a.following_count AS a_following_count, "
    "a.posts_count AS a_posts_count, a.is_private AS a_is_private, "
    'EXISTS (SELECT 1 FROM video_likes l WHERE l.video = v.id AND l."user" = $1) AS liked_by_me'
)
FROM = "FROM videos v JOIN users a ON a.id = v.owner"


async def visible_row(viewer: int, video_id: int, *, staff: bool = False) -> Any:
    """The video row if ``viewer`` may see it, else ``None``."""
    return await sql.fetchrow(
        f"SELECT {VIDEO_COLS} {FROM} WHERE v.id = $2 AND {visible(staff=staff)}", viewer, video_id
    )


async def may_play(viewer: int, video_id: int) -> bool:
    """Whether ``viewer`` may watch ``video_id``'s files now: what ``GET /videos/{id}/playback`` checks (seen,
    as staff too; ready; unlocked), asked again by the media route for each URL signed for ``viewer``."""
    return bool(
        await sql.fetchval(
            f"SELECT EXISTS (SELECT 1 {FROM} WHERE v.id = $2 AND v.status = 'ready' AND {unlocked()} "
            f"AND ({visible()} OR ({_STAFF} AND {visible(staff=True)})))",
            viewer,
            video_id,
        )
    )


async def rows_by_id(viewer: int, ids: list[int]) -> dict[int, Any]:
    """The listable videos among ``ids`` for ``viewer``."""
    if not ids:
        return {}
    rows = await sql.fetch(f"SELECT {VIDEO_COLS} {FROM} WHERE v.id = ANY($2) AND {listed()}", viewer, ids)
    return {r["id"]: r for r in rows}


async def newest(viewer: int, below: int, limit: int, owner: int | None = None) -> list[Any]:
    """Newest listable videos below an id (keyset): the ``videos_ready_id`` / ``videos_owner_id`` ranges."""
    by_owner = "AND v.owner = $4" if owner is not None else "AND $4::bigint IS NULL"
    return await sql.fetch(
        f"SELECT {VIDEO_COLS} {FROM} WHERE v.id < $2 {by_owner} AND {listed()} ORDER BY v.id DESC LIMIT $3",
        viewer,
        below,
        limit,
        owner,
    )


# Full-text rank first (words as typed, 'simple' dictionary: any language), then trigram similarity so
# that a typo still finds the title. The two GIN indexes on search_text serve the two conditions.
_SEARCH = (
    f"SELECT {VIDEO_COLS}, ts_rank(to_tsvector('simple', v.search_text), plainto_tsquery('simple', $2)) AS rank, "
    "word_similarity($2, v.search_text) AS sim "
    f"{FROM} WHERE (to_tsvector('simple', v.search_text) @@ plainto_tsquery('simple', $2) "
    "OR v.search_text %> $2) AND {listed} ORDER BY rank DESC, sim DESC, v.id DESC OFFSET $3 LIMIT $4"
)


async def search(viewer: int, q: str, offset: int, limit: int) -> list[Any]:
    return await sql.fetch(_SEARCH.format(listed=listed()), viewer, q, offset, limit)


async def related(viewer: int, video_id: int, tags: list[str], offset: int, limit: int) -> list[Any]:
    """Videos sharing the most tags with ``video_id`` (GIN ``&&`` on tags), then newest."""
    return await sql.fetch(
        f"SELECT {VIDEO_COLS}, cardinality(ARRAY(SELECT unnest(v.tags) INTERSECT SELECT unnest($3::varchar[]))) "
        f"AS shared {FROM} WHERE v.tags && $3::varchar[] AND v.id <> $2 AND {listed()} "
        "ORDER BY shared DESC, v.id DESC OFFSET $4 LIMIT $5",
        viewer,
        video_id,
        tags,
        offset,
        limit,
    )


async def used_bytes(owner: int) -> int:
    """What ``owner``'s live videos count against the quota (declared lengths of uploads in progress too)."""
    value = await sql.fetchval(
        "SELECT coalesce(sum(greatest(size_bytes, coalesce(upload_length, 0))), 0) FROM videos "
        "WHERE owner = $1 AND deleted_at IS NULL",
        owner,
    )
    return int(value)


def job_args(video_id: int) -> dict[str, Any]:
    """The processing job's args: the video, and the enqueuing span's ``traceparent`` (tracing on)."""
    from server.observability.tracing import TRACEPARENT_ARG, current_traceparent

    traceparent = current_traceparent()
    return {"video_id": int(video_id), **({TRACEPARENT_ARG: traceparent} if traceparent else {})}


async def enqueue_process(video_id: int) -> int:
    """Queue the processing job in the caller's transaction; its procrastinate job id."""
    return int(
        await sql.fetchval(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, lock, args) "
            "VALUES ('video', 'video.process', $1, $1, $2::jsonb) RETURNING id",
            f"video.process:{video_id}",  # the job's lock (one processing job per video), not a channel name
            msgspec.json.encode(job_args(video_id)).decode(),
        )
    )


async def cancel_job(job_id: int) -> None:
    """Cancel a waiting job, or ask the worker running it to abort (it kills ffmpeg)."""
    await sql.fetchval("SELECT procrastinate_cancel_job_v1($1, true, false)", job_id)


# -- the service's writes ------------------------------------------------------------------------------
# Raw for what the builder does not spell: ON CONFLICT with its row count, a counter moved and read back in
# one statement (RETURNING), the jsonb literal of a new row's renditions.


async def insert_video(
    video_id: int,
    owner: int,
    title: str,
    description: str,
    tags: list[str],
    search: str,
    visibility: str,
    moderation: str,
    upload_expires_at: Any,
    price_amount: int | None,
    price_currency: str | None,
) -> None:
    """A new video, waiting for its upload."""
    await sql.execute(
        "INSERT INTO videos (id, owner, title, description, tags, search_text, visibility, status, moderation, "
        "renditions, upload_offset, upload_expires_at, size_bytes, view_count, like_count, price_amount, "
        "price_currency, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'uploading', $8, "
        "'[]'::jsonb, 0, $9, 0, 0, 0, $10, $11, now(), now())",
        video_id,
        owner,
        title,
        description,
        tags,
        search,
        visibility,
        moderation,
        upload_expires_at,
        price_amount,
        price_currency,
    )


async def update_video(
    video_id: int,
    title: str,
    description: str,
    tags: list[str],
    search: str,
    visibility: str,
    price_amount: int | None,
    price_currency: str | None,
) -> None:
    await sql.execute(
        "UPDATE videos SET title = $2, description = $3, tags = $4, search_text = $5, visibility = $6, "
        "price_amount = $7, price_currency = $8, updated_at = now() WHERE id = $1",
        video_id,
        title,
        description,
        tags,
        search,
        visibility,
        price_amount,
        price_currency,
    )


async def soft_delete_video(video_id: int) -> bool:
    """Mark the video deleted and forget its job; ``False`` when it already was."""
    status = await sql.execute(
        "UPDATE videos SET deleted_at = now(), job_id = NULL WHERE id = $1 AND deleted_at IS NULL", video_id
    )
    return bool(sql.changed(status))


async def set_video_like(row_id: int, video_id: int, user_id: int, on: bool) -> Any:
    """Like (or unlike) the video and move its counter; its ``like_count, view_count`` after, or ``None`` when
    nothing changed (liked already, or not liked)."""
    if on:
        status = await sql.execute(
            'INSERT INTO video_likes (id, video, "user", created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING',
            row_id,
            video_id,
            user_id,
        )
    else:
        status = await sql.execute('DELETE FROM video_likes WHERE video = $1 AND "user" = $2', video_id, user_id)
    if not sql.changed(status):
        return None
    return await sql.fetchrow(
        "UPDATE videos SET like_count = like_count + $2 WHERE id = $1 RETURNING like_count, view_count",
        video_id,
        1 if on else -1,
    )


async def insert_video_report(row_id: int, reporter: int, video_id: int, reason: str) -> Any:
    """An open report on the video; the new row."""
    return await sql.fetchrow(
        "INSERT INTO reports (id, reporter, target_type, target_id, reason, status, created_at) "
        "VALUES ($1, $2, 'video', $3, $4, 'open', now()) RETURNING *",
        row_id,
        reporter,
        video_id,
        reason,
    )


async def set_moderation(video_id: int, moderation: str) -> None:
    """``approved`` or ``rejected``."""
    await sql.execute("UPDATE videos SET moderation = $2, updated_at = now() WHERE id = $1", video_id, moderation)


# -- uploads (tus), publishing, jobs -----------------------------------------------------------------------


async def own_upload(video_id: int, owner: int) -> Any:
    """The upload state of ``owner``'s undeleted video, or ``None``."""
    return await sql.fetchrow(
        "SELECT id, owner, status, upload_length, upload_offset, upload_expires_at, size_bytes FROM videos "
        "WHERE id = $1 AND owner = $2 AND deleted_at IS NULL",
        video_id,
        owner,
    )


async def declared_length(video_id: int) -> int:
    """The upload length the video declared (0 before any)."""
    return int(await sql.fetchval("SELECT coalesce(upload_length, 0) FROM videos WHERE id = $1", video_id))


async def start_upload(video_id: int, length: int, expires_at: Any) -> None:
    await sql.execute(
        "UPDATE videos SET upload_length = $2, upload_offset = 0, upload_expires_at = $3, updated_at = now() "
        "WHERE id = $1",
        video_id,
        length,
        expires_at,
    )


async def advance_upload(video_id: int, offset: int, expires_at: Any) -> None:
    await sql.execute(
        "UPDATE videos SET upload_offset = $2, upload_expires_at = $3, updated_at = now() WHERE id = $1",
        video_id,
        offset,
        expires_at,
    )


async def finish_upload(video_id: int, source_path: str) -> bool:
    """Move an uploading video to ``processing`` with its source file; ``False`` if it was not uploading (a
    concurrent completion won)."""
    return (
        await sql.fetchval(
            "UPDATE videos SET status = 'processing', size_bytes = upload_length, source_path = $2, "
            "upload_expires_at = NULL, updated_at = now() WHERE id = $1 AND status = 'uploading' RETURNING id",
            video_id,
            source_path,
        )
        is not None
    )


async def set_job(video_id: int, job_id: int) -> None:
    await sql.execute("UPDATE videos SET job_id = $2 WHERE id = $1", video_id, job_id)


async def delete_upload(video_id: int) -> None:
    await sql.execute("UPDATE videos SET deleted_at = now() WHERE id = $1", video_id)


async def expire_uploads() -> list[int]:
    """Fail and delete every upload whose expiry passed; their ids (their staged bytes are the caller's)."""
    rows = await sql.fetch(
        "UPDATE videos SET deleted_at = now(), status = 'failed', failure_reason = 'upload_expired' "
        "WHERE status = 'uploading' AND deleted_at IS NULL AND upload_expires_at < now() RETURNING id"
    )
    return [r["id"] for r in rows]


async def orphaned_processing() -> list[int]:
    """Videos left ``processing`` without a queued or running job (their worker died)."""
    rows = await sql.fetch(
        "SELECT v.id FROM videos v WHERE v.status = 'processing' AND v.deleted_at IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM procrastinate_jobs j WHERE j.id = v.job_id AND j.status IN ('todo', 'doing'))"
    )
    return [r["id"] for r in rows]


async def owns_video(user_id: int, video_id: int) -> bool:
    return bool(
        await sql.fetchval(
            "SELECT EXISTS (SELECT 1 FROM videos WHERE id = $1 AND owner = $2 AND deleted_at IS NULL)",
            video_id,
            user_id,
        )
    )


async def owner_suspended(owner: int) -> bool:
    return bool(await sql.fetchval("SELECT suspended_at IS NOT NULL FROM users WHERE id = $1", owner))


async def live_post_visibility(post_id: int) -> str | None:
    """The visibility of the undeleted post, or ``None``."""
    return await sql.fetchval("SELECT visibility FROM posts WHERE id = $1 AND deleted_at IS NULL", post_id)  # type: ignore[no-any-return]


async def link_post(video_id: int, post_id: int) -> bool:
    """Link the video's post; ``False`` when it has one already (another sync won)."""
    status = await sql.execute("UPDATE videos SET post = $1 WHERE id = $2 AND post IS NULL", post_id, video_id)
    return bool(sql.changed(status))


async def unlink_post(video_id: int) -> None:
    await sql.execute("UPDATE videos SET post = NULL WHERE id = $1", video_id)


async def user_id_by_name(username: str) -> int | None:
    return await sql.fetchval("SELECT id FROM users WHERE username = $1", username)  # type: ignore[no-any-return]


async def pending_page(viewer: int, after: int, n: int) -> list[Any]:
    """The moderation queue past video id ``after``, oldest first (``VIDEO_COLS`` rows as ``viewer`` sees them)."""
    return await sql.fetch(
        f"SELECT {VIDEO_COLS} {FROM} WHERE v.moderation = 'pending' AND v.deleted_at IS NULL "
        "AND v.id > $2 ORDER BY v.id LIMIT $3",
        viewer,
        after,
        n,
    )


# -- view sessions and analytics ---------------------------------------------------------------------------
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


# -- processing ----------------------------------------------------------------------------------------------


async def processing_source(video_id: int) -> Any:
    """``id, owner, status, source_path`` of the undeleted video, or ``None``."""
    return await sql.fetchrow(
        "SELECT id, owner, status, source_path FROM videos WHERE id = $1 AND deleted_at IS NULL", video_id
    )


async def mark_ready(video_id: int, duration: float, width: int, height: int, renditions_json: str) -> Any:
    """A processing video becomes ``ready`` with its renditions; its ``owner, title``, or ``None`` when it was
    deleted (or is no longer processing) meanwhile."""
    return await sql.fetchrow(
        "UPDATE videos SET status = 'ready', failure_reason = NULL, duration = $2, width = $3, height = $4, "
        "renditions = $5::jsonb, thumbnail = 'poster.jpg', published_at = now(), source_path = NULL, "
        "job_id = NULL, updated_at = now() WHERE id = $1 AND deleted_at IS NULL AND status = 'processing' "
        "RETURNING owner, title",
        video_id,
        duration,
        width,
        height,
        renditions_json,
    )


async def mark_failed(video_id: int, reason: str) -> Any:
    """A processing video fails with ``reason``; its ``source_path``, or ``None`` when it was not processing."""
    return await sql.fetchrow(
        "UPDATE videos SET status = 'failed', failure_reason = $2, job_id = NULL, updated_at = now() "
        "WHERE id = $1 AND deleted_at IS NULL AND status = 'processing' RETURNING source_path",
        video_id,
        reason,
    )


async def insert_video_from_file(
    video_id: int,
    owner: int,
    title: str,
    description: str,
    tags: list[str],
    search: str,
    visibility: str,
    moderation: str,
    size: int,
    source_path: str,
) -> None:
    """A video made from a file on this machine, straight to ``processing``."""
    await sql.execute(
        "INSERT INTO videos (id, owner, title, description, tags, search_text, visibility, status, moderation, "
        "renditions, upload_length, upload_offset, source_path, size_bytes, view_count, like_count, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'processing', $8, '[]'::jsonb, $9, $9, "
        "$10, $9, 0, 0, now(), now())",
        video_id,
        owner,
        title,
        description,
        tags,
        search,
        visibility,
        moderation,
        size,
        source_path,
    )
