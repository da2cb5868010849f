"""The processing job (queued in the caller's transaction, cancelled) and what it records on a video."""

from __future__ import annotations

from typing import Any

import msgspec

from server import sql


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
