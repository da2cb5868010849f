"""Reports by users and the moderators' queue and removals."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from server.openapi import problems
from server.params import Cursor, Limit, PathId, parse_id
from server.ratelimit import write_limit
from server.social import schemas
from server.social.deps import Viewer
from server.social.services.moderation import ModerationService


class ReportController(Controller):
    path = "/reports"
    tags = ["moderation"]

    @post(
        "/",
        status_code=201,
        summary="Report a post, comment or user",
        guards=[write_limit("reports")],
        responses=problems(401, 404, 422),
    )
    async def report(
        self, data: JSONBody[schemas.ReportCreate], viewer: Viewer, moderation: NamedDependency[ModerationService]
    ) -> schemas.ReportView:
        return await moderation.report(viewer.id, data)


class ModerationController(Controller):
    path = "/moderation"
    tags = ["moderation"]

    @get("/reports", summary="Open reports (moderators)", responses=problems(401, 403, 422))
    async def queue(
        self,
        viewer: Viewer,
        moderation: NamedDependency[ModerationService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.ReportPage:
        return await moderation.queue(viewer.role, limit, cursor)

    @post(
        "/posts/{post_id:str}/remove",
        status_code=204,
        summary="Remove a post (audited)",
        responses=problems(401, 403, 404, 422),
    )
    async def remove_post(
        self,
        post_id: PathId,
        data: JSONBody[schemas.Removal],
        viewer: Viewer,
        moderation: NamedDependency[ModerationService],
    ) -> None:
        await moderation.remove_post(viewer.id, viewer.role, parse_id(post_id), data.reason)
