"""``/admin/videos``: the approval queue (``VIDEO_REQUIRE_APPROVAL=true``) for moderators and admins."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from server.guards import requires_moderator
from server.openapi import problems
from server.params import Cursor, Limit, PathId, parse_id
from server.social.deps import Viewer
from server.video import schemas
from server.video.discovery import DiscoveryService
from server.video.services import VideoService


class VideoModerationController(Controller):
    path = "/admin/videos"
    tags = ["moderation"]
    guards = [requires_moderator]

    @get("/pending", summary="Videos waiting for approval, oldest first", responses=problems(401, 403, 422))
    async def pending(
        self, viewer: Viewer, discovery: NamedDependency[DiscoveryService], limit: Limit = 20, cursor: Cursor = None
    ) -> schemas.VideoPage:
        return await discovery.pending(viewer, limit, cursor)

    @post("/{video_id:str}/approve", status_code=200, summary="Approve", responses=problems(401, 403, 404, 409, 422))
    async def approve(
        self,
        video_id: PathId,
        viewer: Viewer,
        videos: NamedDependency[VideoService],
        data: JSONBody[schemas.Decision | None] = None,
    ) -> schemas.Video:
        return await videos.decide(viewer, parse_id(video_id), True, data.reason if data else "")

    @post("/{video_id:str}/reject", status_code=200, summary="Reject", responses=problems(401, 403, 404, 409, 422))
    async def reject(
        self,
        video_id: PathId,
        viewer: Viewer,
        videos: NamedDependency[VideoService],
        data: JSONBody[schemas.Decision | None] = None,
    ) -> schemas.Video:
        return await videos.decide(viewer, parse_id(video_id), False, data.reason if data else "")
