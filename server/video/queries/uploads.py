"""Uploads (tus), publishing a video to a post, and the lookups those flows need."""

from __future__ import annotations

from typing import Any

from server import sql
from server.video.queries.visibility import FROM, VIDEO_COLS


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
