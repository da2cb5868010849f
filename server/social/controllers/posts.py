"""Posts: publish, read, edit, delete, like, repost, bookmark, and a post's comments."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, JSONBody, Parameter

from server import replicas
from server.deps import MaybeUser
from server.errors import Forbidden
from server.guards import has_capability
from server.openapi import problems
from server.params import Cursor, Limit, PathId, body_id, parse_id
from server.ratelimit import write_limit
from server.settings import Settings
from server.social import schemas
from server.social.avatars import store_post_image
from server.social.deps import Viewer
from server.social.runtime import SocialRuntime
from server.social.services.comments import CommentService
from server.social.services.posts import PostService

Order = Annotated[Literal["oldest", "newest"], Parameter(description="comment order")]
ParentId = Annotated[str | None, Parameter(max_length=20, description="only replies to this comment")]


class PostController(Controller):
    path = "/posts"
    tags = ["posts"]

    @post(
        "/",
        status_code=201,
        summary="Publish a post (hashtags and @mentions parsed)",
        guards=[write_limit("posts")],
        responses=problems(401, 413, 422),
    )
    async def create(
        self, data: JSONBody[schemas.PostCreate], viewer: Viewer, posts: NamedDependency[PostService]
    ) -> schemas.Post:
        if data.price is not None and not has_capability(viewer, "creator"):
            raise Forbidden("only creators can sell posts: enroll at /api/v1/creators/enroll")
        return await posts.create(
            viewer.id, data.text, data.visibility, [body_id(m) for m in data.media_ids], price=data.price
        )

    @post(
        "/media",
        guards=[write_limit("uploads")],
        status_code=201,
        summary="Upload an image to attach (multipart field `data`): checked by content, bounded, metadata stripped",
        responses=problems(401, 413, 422),
        request_max_body_size=6 * 1024 * 1024,
    )
    async def upload(
        self,
        data: Annotated[schemas.ImageUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        viewer: Viewer,
        social: NamedDependency[SocialRuntime],
        settings: NamedDependency[Settings],
    ) -> schemas.Media:
        cfg = social.settings
        raw = await data.data.read(cfg.image_max_bytes + 1)
        row = await store_post_image(
            viewer.id,
            raw,
            media_dir=settings.data_dir / "media",
            max_bytes=cfg.image_max_bytes,
            size=cfg.image_max_side,
            pool=social.images,
            max_pixels=cfg.image_max_pixels,
        )
        # Bound to the uploader: until it is attached to a public post, only they hold a URL that opens it.
        url = social.media.url(row["url"], viewer.id)
        return schemas.Media(id=str(row["id"]), url=url, width=row["width"], height=row["height"])

    @get("/{post_id:str}", summary="A post", responses=problems(404))
    async def read(self, post_id: PathId, maybe_user: MaybeUser, posts: NamedDependency[PostService]) -> schemas.Post:
        return await posts.get(maybe_user.id if maybe_user else None, parse_id(post_id))

    @patch(
        "/{post_id:str}",
        guards=[write_limit("edits")],
        summary="Edit my post (the old text is kept in its history); a repost has no text to edit (409)",
        responses=problems(401, 403, 404, 409, 422),
    )
    async def edit(
        self, post_id: PathId, data: JSONBody[schemas.PostUpdate], viewer: Viewer, posts: NamedDependency[PostService]
    ) -> schemas.Post:
        return await posts.edit(viewer.id, parse_id(post_id), data.text)

    @get(
        "/{post_id:str}/history",
        summary="Earlier versions of an edited post, oldest first",
        responses=problems(404, 422),
    )
    async def history(
        self,
        post_id: PathId,
        maybe_user: MaybeUser,
        posts: NamedDependency[PostService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.PostEditPage:
        return await posts.history(maybe_user.id if maybe_user else None, parse_id(post_id), limit, cursor)

    @delete(
        "/{post_id:str}",
        status_code=204,
        summary="Delete (author, moderator, admin)",
        responses=problems(401, 403, 404),
    )
    async def remove(self, post_id: PathId, viewer: Viewer, posts: NamedDependency[PostService]) -> None:
        await posts.delete(viewer.id, viewer.role, parse_id(post_id))

    @post(
        "/{post_id:str}/like",
        guards=[write_limit("likes")],
        status_code=200,
        summary="Like (idempotent)",
        responses=problems(401, 404),
    )
    async def like(self, post_id: PathId, viewer: Viewer, posts: NamedDependency[PostService]) -> schemas.Post:
        return await posts.like(viewer.id, parse_id(post_id), on=True)

    @delete(
        "/{post_id:str}/like",
        guards=[write_limit("likes")],
        status_code=200,
        summary="Unlike (idempotent)",
        responses=problems(401, 404),
    )
    async def unlike(self, post_id: PathId, viewer: Viewer, posts: NamedDependency[PostService]) -> schemas.Post:
        return await posts.like(viewer.id, parse_id(post_id), on=False)

    @post(
        "/{post_id:str}/repost",
        guards=[write_limit("posts")],
        summary="Repost a public post (201 new, 200 already)",
        responses={
            200: ResponseSpec(schemas.Post, description="Already reposted: the existing repost"),
            **problems(401, 403, 404),
        },
    )
    async def repost(
        self, post_id: PathId, viewer: Viewer, posts: NamedDependency[PostService]
    ) -> Response[schemas.Post]:
        repost, created = await posts.repost(viewer.id, parse_id(post_id))
        return Response(repost, status_code=201 if created else 200)

    @delete("/{post_id:str}/repost", status_code=204, summary="Undo my repost", responses=problems(401, 404))
    async def unrepost(self, post_id: PathId, viewer: Viewer, posts: NamedDependency[PostService]) -> None:
        await posts.unrepost(viewer.id, parse_id(post_id))

    @post("/{post_id:str}/bookmark", status_code=200, summary="Bookmark (idempotent)", responses=problems(401, 404))
    async def bookmark(self, post_id: PathId, viewer: Viewer, posts: NamedDependency[PostService]) -> schemas.Post:
        return await posts.bookmark(viewer.id, parse_id(post_id), on=True)

    @delete("/{post_id:str}/bookmark", status_code=200, summary="Remove a bookmark", responses=problems(401, 404))
    async def unbookmark(self, post_id: PathId, viewer: Viewer, posts: NamedDependency[PostService]) -> schemas.Post:
        return await posts.bookmark(viewer.id, parse_id(post_id), on=False)

    @get("/{post_id:str}/comments", summary="Comments, oldest (default) or newest first", responses=problems(404, 422))
    async def comments(
        self,
        post_id: PathId,
        maybe_user: MaybeUser,
        comments: NamedDependency[CommentService],
        limit: Limit = 20,
        cursor: Cursor = None,
        order: Order = "oldest",
        parent_id: ParentId = None,
    ) -> schemas.CommentPage:
        parent = parse_id(parent_id) if parent_id is not None else None
        viewer = maybe_user.id if maybe_user else None
        async with replicas.reads(comments.rt.replicas, viewer):
            return await comments.list(viewer, parse_id(post_id), order, parent, limit, cursor)

    @post(
        "/{post_id:str}/comments",
        guards=[write_limit("comments")],
        status_code=201,
        summary="Comment, or reply with `parent_id`",
        responses=problems(401, 404, 422),
    )
    async def comment(
        self,
        post_id: PathId,
        data: JSONBody[schemas.CommentCreate],
        viewer: Viewer,
        comments: NamedDependency[CommentService],
    ) -> schemas.Comment:
        parent = body_id(data.parent_id) if data.parent_id is not None else None
        return await comments.add(viewer.id, parse_id(post_id), data.text, parent)
