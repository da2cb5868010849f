"""View heartbeats and the owner's analytics.

A session counts as a view once it has watched 3 s (or the whole video, when shorter); it raises the
public ``view_count`` only once per viewer per 24 h. Each heartbeat marks the 5 % slices of the video
played since the previous one, which is what the retention curve is made of.
"""

from __future__ import annotations

import hashlib
from typing import Any

from models.ids import new_id
from server import db
from server.deps import CurrentUser
from server.errors import Forbidden, NotFound, PaymentRequired
from server.guards import has_role
from server.video import schemas
from server.video.queries import analytics as analytics_queries
from server.video.queries import reads as read_queries
from server.video.runtime import VideoRuntime
from server.video.services import NotReady, emit_stats, trend

SLICES = 20  # retention resolution: 5 % of the duration each
VIEW_AFTER_SECONDS = 3.0
# Watched time may not run ahead of the wall clock of the session by more than this (inflated heartbeats).
CLOCK_SLACK_SECONDS = 10.0


def slice_mask(duration: float, start: float, end: float) -> int:
    """Bits of the 5 % slices that [start, end] (seconds) touches."""
    if duration <= 0:
        return 1
    first = max(0, min(SLICES - 1, int(max(0.0, start) / duration * SLICES)))
    last = max(0, min(SLICES - 1, int(max(0.0, end) / duration * SLICES)))
    mask = 0
    for i in range(first, max(first, last) + 1):
        mask |= 1 << i
    return mask


class AnalyticsService:
    def __init__(self, runtime: VideoRuntime) -> None:
        self.rt = runtime

    def viewer_key(self, user: CurrentUser | None, client: str) -> str:
        if user is not None:
            return f"u:{user.id}"
        digest = hashlib.sha256(f"{self.rt.secret_key}|{client}".encode()).hexdigest()[:32]
        return f"a:{digest}"

    async def heartbeat(self, user: CurrentUser | None, client: str, video_id: int, beat: schemas.ViewBeat) -> None:
        viewer = user.id if user else 0
        row = await read_queries.visible_row(viewer, video_id)
        if row is None:
            raise NotFound("no such video")
        if row["status"] != "ready":
            raise NotReady("only a ready video can be watched")
        if not row["unlocked"]:
            raise PaymentRequired("a paid video counts views of those who bought it")
        duration = float(row["duration"] or 0.0)
        key = self.viewer_key(user, client)
        position = min(beat.position, duration) if duration else beat.position
        counted_now = False
        async with db.transaction():
            session = await analytics_queries.lock_view_session(video_id, beat.session_id)
            if session is not None and session["viewer_key"] != key:
                return  # another viewer's session id: ignored, never merged
            age = float(session["age"]) if session is not None else 0.0
            previous = float(session["watched"]) if session is not None else 0.0
            watched = max(previous, min(beat.watched, age + CLOCK_SLACK_SECONDS))
            played = max(0.0, watched - previous)
            mask = slice_mask(duration, position - played, position)
            if session is None:
                session = await analytics_queries.insert_view_session(
                    new_id(),
                    video_id,
                    user.id if user else None,
                    key,
                    beat.session_id,
                    watched,
                    mask,
                )
                if session is None:
                    return  # the same new session, concurrently: the other beat recorded it
            else:
                await analytics_queries.extend_view_session(session["id"], watched, mask)
            if session["counted_at"] is None and watched >= min(VIEW_AFTER_SECONDS, duration or VIEW_AFTER_SECONDS):
                counted_now = await self._count(row, session["id"], key)
        if counted_now:
            await trend(self.rt, row, 1.0)

    async def _count(self, row: Any, session_id: int, key: str) -> bool:
        """The session becomes a view; ``view_count`` rises unless this viewer counted in the last 24 h."""
        recent = await analytics_queries.counted_recently(row["id"], key)
        await analytics_queries.mark_counted(session_id, not recent)
        if recent:
            return False
        counts = await analytics_queries.add_view(row["id"])
        assert counts is not None
        await emit_stats(row, counts["like_count"], counts["view_count"])
        return True

    async def analytics(self, user: CurrentUser, video_id: int) -> schemas.Analytics:
        row = await read_queries.visible_row(user.id, video_id, staff=has_role(user, "moderator"))
        if row is None:
            raise NotFound("no such video")
        if row["owner"] != user.id:
            raise Forbidden("only the owner sees a video's analytics")
        totals = await analytics_queries.view_totals(video_id)
        assert totals is not None
        # One pass per slice over the counted sessions: a 5 % slice's share of views that played it.
        curve = await analytics_queries.retention(video_id, SLICES)
        views = int(totals["views"])
        return schemas.Analytics(
            views=views,
            unique_viewers=int(totals["uniques"]),
            watch_time=round(float(totals["watch_time"]), 3),
            average_view_duration=round(float(totals["counted_time"]) / views, 3) if views else 0.0,
            retention=[round(100.0 * int(r["n"]) / views, 2) if views else 0.0 for r in curve],
            view_count=int(row["view_count"]),
            like_count=int(row["like_count"]),
        )
