"""A comment by its id: delete, like."""

from __future__ import annotations

from litestar import Controller, delete, post
from litestar.di import NamedDependency

from server.openapi import problems
from server.params import PathId, parse_id
from server.ratelimit import write_limit
from server.social import schemas
from server.social.deps import Viewer
from server.social.services.comments import CommentService


class CommentController(Controller):
    path = "/comments"
    tags = ["posts"]

    @delete(
        "/{comment_id:str}",
        status_code=204,
        summary="Delete (its author, the post's author, a moderator)",
        responses=problems(401, 403, 404),
    )
    async def remove(self, comment_id: PathId, viewer: Viewer, comments: NamedDependency[CommentService]) -> None:
        await comments.delete(viewer.id, viewer.role, parse_id(comment_id))

    @post(
        "/{comment_id:str}/like",
        guards=[write_limit("likes")],
        status_code=200,
        summary="Like a comment (idempotent)",
        responses=problems(401, 404),
    )
    async def like(
        self, comment_id: PathId, viewer: Viewer, comments: NamedDependency[CommentService]
    ) -> schemas.Comment:
        return await comments.like(viewer.id, parse_id(comment_id), on=True)

    @delete("/{comment_id:str}/like", status_code=200, summary="Unlike a comment", responses=problems(401, 404))
    async def unlike(
        self, comment_id: PathId, viewer: Viewer, comments: NamedDependency[CommentService]
    ) -> schemas.Comment:
        return await comments.like(viewer.id, parse_id(comment_id), on=False)
