"""Where video meets the realtime layer: who may subscribe to ``video:{id}`` (its owner only)."""

from __future__ import annotations

from server import sql
from server.params import as_id


async def video_channel_policy(user_id: int, arg: str) -> bool:
    """``video:{id}``: processing progress and stats, for the video's owner."""
    video_id = as_id(arg)
    if video_id is None:
        return False
    return bool(
        await sql.fetchval(
            "SELECT EXISTS (SELECT 1 FROM videos WHERE id = $1 AND owner = $2 AND deleted_at IS NULL)",
            video_id,
            user_id,
        )
    )
