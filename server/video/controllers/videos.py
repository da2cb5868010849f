"""``/videos``: create, read, edit, delete, playback, likes, view heartbeats, analytics, lists."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from server.deps import MaybeUser
from server.guards import requires_creator
from server.openapi import problems
from server.params import Cursor, Limit, PathId, parse_id
from server.ratelimit import write_limit
from server.social.deps import Viewer
from server.video import schemas
from server.video.analytics import AnalyticsService
from server.video.discovery import DiscoveryService
from server.video.services import VideoService

Query = Annotated[str, Parameter(min_length=1, max_length=200, description="words of the title, description or tags")]


class VideoController(Controller):
    path = "/videos"
    tags = ["videos"]

    @post(
        "/",
        status_code=201,
        summary="Create a video (creators and admins); send its bytes with tus to `upload_url`",
        responses=problems(401, 403, 422, 429),
        guards=[requires_creator, write_limit("uploads")],
    )
    async def create(
        self, data: JSONBody[schemas.VideoCreate], viewer: Viewer, videos: NamedDependency[VideoService]
    ) -> schemas.Video:
        return await videos.create(viewer, data)

    @get("/", summary="Newest ready videos the caller may see", responses=problems(422))
    async def newest(
        self,
        maybe_user: MaybeUser,
        discovery: NamedDependency[DiscoveryService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.VideoPage:
        return await discovery.newest(maybe_user, limit, cursor)

    @get("/trending", summary="Public videos by time-decayed views and likes", responses=problems(422))
    async def trending(
        self,
        maybe_user: MaybeUser,
        discovery: NamedDependency[DiscoveryService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.VideoPage:
        return await discovery.trending(maybe_user, limit, cursor)

    @get("/search", summary="Full-text search (typos forgiven) over title, description, tags", responses=problems(422))
    async def search(
        self,
        q: Query,
        maybe_user: MaybeUser,
        discovery: NamedDependency[DiscoveryService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.VideoPage:
        return await discovery.search(maybe_user, q, limit, cursor)

    @get("/{video_id:str}", summary="A video", responses=problems(404))
    async def read(
        self, video_id: PathId, maybe_user: MaybeUser, videos: NamedDependency[VideoService]
    ) -> schemas.Video:
        return await videos.get(maybe_user, parse_id(video_id))

    @patch(
        "/{video_id:str}",
        summary="Edit (owner, moderator, admin)",
        responses=problems(401, 403, 404, 422, 429),
        guards=[write_limit("edits")],
    )
    async def edit(
        self,
        video_id: PathId,
        data: JSONBody[schemas.VideoUpdate],
        viewer: Viewer,
        videos: NamedDependency[VideoService],
    ) -> schemas.Video:
        return await videos.update(viewer, parse_id(video_id), data)

    @delete(
        "/{video_id:str}",
        status_code=204,
        summary="Delete (owner, moderator, admin); a running transcode is cancelled",
        responses=problems(401, 403, 404),
    )
    async def remove(self, video_id: PathId, viewer: Viewer, videos: NamedDependency[VideoService]) -> None:
        await videos.delete(viewer, parse_id(video_id))

    @get(
        "/{video_id:str}/playback",
        summary="The HLS master playlist URL (signed and expiring unless public and free)",
        responses=problems(402, 404, 409),
    )
    async def playback(
        self, video_id: PathId, maybe_user: MaybeUser, videos: NamedDependency[VideoService]
    ) -> schemas.Playback:
        return await videos.playback(maybe_user, parse_id(video_id))

    @post(
        "/{video_id:str}/like",
        status_code=200,
        summary="Like (idempotent)",
        responses=problems(401, 404, 409, 429),
        guards=[write_limit("likes")],
    )
    async def like(self, video_id: PathId, viewer: Viewer, videos: NamedDependency[VideoService]) -> schemas.Video:
        return await videos.like(viewer, parse_id(video_id), on=True)

    @delete(
        "/{video_id:str}/like",
        status_code=200,
        summary="Unlike (idempotent)",
        responses=problems(401, 404, 409, 429),
        guards=[write_limit("likes")],
    )
    async def unlike(self, video_id: PathId, viewer: Viewer, videos: NamedDependency[VideoService]) -> schemas.Video:
        return await videos.like(viewer, parse_id(video_id), on=False)

    @post(
        "/{video_id:str}/views",
        status_code=204,
        summary="Player heartbeat; a session counts as a view after 3 s watched",
        responses=problems(402, 404, 409, 422),
    )
    async def view(
        self,
        video_id: PathId,
        data: JSONBody[schemas.ViewBeat],
        request: Request,
        maybe_user: MaybeUser,
        video_analytics: NamedDependency[AnalyticsService],
    ) -> None:
        client = request.client.host if request.client else ""
        await video_analytics.heartbeat(maybe_user, client, parse_id(video_id), data)

    @get("/{video_id:str}/analytics", summary="Views, watch time, retention (owner)", responses=problems(401, 403, 404))
    async def analytics(
        self, video_id: PathId, viewer: Viewer, video_analytics: NamedDependency[AnalyticsService]
    ) -> schemas.Analytics:
        return await video_analytics.analytics(viewer, parse_id(video_id))

    @get("/{video_id:str}/related", summary="Videos sharing its tags", responses=problems(404, 422))
    async def related(
        self,
        video_id: PathId,
        maybe_user: MaybeUser,
        discovery: NamedDependency[DiscoveryService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.VideoPage:
        return await discovery.related(maybe_user, parse_id(video_id), limit, cursor)

    @post(
        "/{video_id:str}/report",
        status_code=201,
        summary="Report a video",
        responses=problems(401, 404, 422, 429),
        guards=[write_limit("reports")],
    )
    async def report(
        self,
        video_id: PathId,
        data: JSONBody[schemas.ReportCreate],
        viewer: Viewer,
        videos: NamedDependency[VideoService],
    ) -> schemas.ReportView:
        return await videos.report(viewer, parse_id(video_id), data.reason)


class UserVideosController(Controller):
    path = "/users"
    tags = ["videos"]

    @get("/{username:str}/videos", summary="A creator's ready videos the caller may see", responses=problems(404, 422))
    async def videos(
        self,
        username: FromPath[str],
        maybe_user: MaybeUser,
        discovery: NamedDependency[DiscoveryService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.VideoPage:
        return await discovery.by_user(maybe_user, username, limit, cursor)
