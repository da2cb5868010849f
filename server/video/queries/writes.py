"""The video service's writes: create, edit, soft delete, likes, reports, moderation."""

from __future__ import annotations

from typing import Any

from server import sql

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
