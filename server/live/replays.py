"""Replays: a stream's recording, once nginx-rtmp closed it, becomes a video through the video pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog

from server.live import queries
from server.video.processing import create_from_file

log = structlog.get_logger(__name__)


async def make_replay(video: Any, stream_id: int, owner: int, path: Path) -> int | None:
    """The replay video's id (processed by the same job as an upload), or ``None`` if the stream has one."""
    row = await queries.replay_source(stream_id)
    if row is None or row["replay_video"] is not None:
        return None
    video_id = await create_from_file(
        video,
        owner,
        f"{row['title']} (replay)"[:255],
        path,
        visibility=row["visibility"],
        description="Replay of a live stream",
    )
    # A second record_done racing this one keeps the first replay (the update only fills an empty slot).
    await queries.set_replay(stream_id, video_id)
    log.info("live_replay_queued", stream=stream_id, video=video_id)
    return video_id
