"""Where video meets the realtime layer: who may subscribe to ``video:{id}`` (its owner only)."""

from __future__ import annotations

from server.params import as_id
from server.video.queries import uploads as upload_queries


async def video_channel_policy(user_id: int, arg: str) -> bool:
    """``video:{id}``: processing progress and stats, for the video's owner."""
    video_id = as_id(arg)
    if video_id is None:
        return False
    return await upload_queries.owns_video(user_id, video_id)
