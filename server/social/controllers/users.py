"""Users and the graph: profiles, PATCH /users/me, search, follow, requests, block, mute, lists."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, Parameter, PathParameter

from server import replicas
from server.deps import MaybeUser
from server.openapi import problems
from server.params import Cursor, Limit
from server.ratelimit import write_limit
from server.settings import Settings
from server.social import schemas
from server.social.avatars import store_avatar
from server.social.deps import Viewer
from server.social.runtime import SocialRuntime
from server.social.services.feeds import FeedService
from server.social.services.graph import GraphService

Username = Annotated[str, PathParameter(max_length=30)]
Query = Annotated[str, Parameter(min_length=1, max_length=64)]


class MeController(Controller):
    path = "/users/me"
    tags = ["users"]

    @patch("/", summary="Update my profile (only the fields sent)", responses=problems(401, 422))
    async def update_me(
        self, data: JSONBody[schemas.ProfileUpdate], viewer: Viewer, graph: NamedDependency[GraphService]
    ) -> schemas.Profile:
        return await graph.update_me(viewer.id, data)

    @put(
        "/avatar",
        guards=[write_limit("uploads")],
        summary="Upload my avatar (multipart field `file`): checked by content, resized, metadata stripped",
        responses=problems(401, 413, 422),
        request_max_body_size=6 * 1024 * 1024,
    )
    async def avatar(
        self,
        data: Annotated[schemas.ImageUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        viewer: Viewer,
        graph: NamedDependency[GraphService],
        social: NamedDependency[SocialRuntime],
        settings: NamedDependency[Settings],
    ) -> schemas.Profile:
        cfg = social.settings
        raw = await data.data.read(cfg.avatar_max_bytes + 1)
        await store_avatar(
            viewer.id,
            raw,
            media_dir=settings.data_dir / "media",
            max_bytes=cfg.avatar_max_bytes,
            size=cfg.avatar_size,
            pool=social.images,
            max_pixels=cfg.avatar_max_pixels,
        )
        return await graph.profile_by_id(viewer.id)

    @get("/follow-requests", summary="Pending requests to follow me", responses=problems(401, 422))
    async def follow_requests(
        self, viewer: Viewer, graph: NamedDependency[GraphService], limit: Limit = 20, cursor: Cursor = None
    ) -> schemas.UserPage:
        return await graph.follow_requests(viewer.id, limit, cursor)

    @post("/follow-requests/{username:str}/accept", status_code=204, responses=problems(401, 404))
    async def accept(self, username: Username, viewer: Viewer, graph: NamedDependency[GraphService]) -> None:
        await graph.answer_request(viewer.id, username, accept=True)

    @post("/follow-requests/{username:str}/reject", status_code=204, responses=problems(401, 404))
    async def reject(self, username: Username, viewer: Viewer, graph: NamedDependency[GraphService]) -> None:
        await graph.answer_request(viewer.id, username, accept=False)

    @get("/bookmarks", summary="Posts I bookmarked", responses=problems(401, 422))
    async def bookmarks(
        self, viewer: Viewer, feeds: NamedDependency[FeedService], limit: Limit = 20, cursor: Cursor = None
    ) -> schemas.PostPage:
        async with replicas.reads(feeds.rt.replicas, viewer.id):
            return await feeds.bookmarks(viewer.id, limit, cursor)


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/search", summary="Search users by username and display name", responses=problems(422))
    async def search(
        self,
        q: Query,
        maybe_user: MaybeUser,
        graph: NamedDependency[GraphService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.UserPage:
        async with replicas.reads(graph.rt.replicas, maybe_user.id if maybe_user else None):
            return await graph.search(maybe_user.id if maybe_user else None, q, limit, cursor)

    @get("/{username:str}", summary="A user's profile", responses=problems(404))
    async def profile(
        self, username: Username, maybe_user: MaybeUser, graph: NamedDependency[GraphService]
    ) -> schemas.Profile:
        async with replicas.reads(graph.rt.replicas, maybe_user.id if maybe_user else None):
            return await graph.profile(username, maybe_user.id if maybe_user else None)

    @get("/{username:str}/posts", summary="A user's posts, newest first", responses=problems(404, 422))
    async def posts(
        self,
        username: Username,
        maybe_user: MaybeUser,
        feeds: NamedDependency[FeedService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.PostPage:
        async with replicas.reads(feeds.rt.replicas, maybe_user.id if maybe_user else None):
            return await feeds.user_posts(maybe_user.id if maybe_user else None, username, limit, cursor)

    @post(
        "/{username:str}/follow",
        guards=[write_limit("follows")],
        status_code=200,
        summary="Follow (or request to follow a private account); idempotent",
        responses=problems(401, 404, 409, 422),
    )
    async def follow(
        self, username: Username, viewer: Viewer, graph: NamedDependency[GraphService]
    ) -> schemas.FollowResult:
        return await graph.follow(viewer.id, username)

    @delete(
        "/{username:str}/follow",
        guards=[write_limit("follows")],
        status_code=200,
        summary="Unfollow (or withdraw a request)",
        responses=problems(401, 404),
    )
    async def unfollow(
        self, username: Username, viewer: Viewer, graph: NamedDependency[GraphService]
    ) -> schemas.FollowResult:
        return await graph.unfollow(viewer.id, username)

    @get("/{username:str}/followers", summary="Followers, newest first", responses=problems(403, 404, 422))
    async def followers(
        self,
        username: Username,
        maybe_user: MaybeUser,
        graph: NamedDependency[GraphService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.UserPage:
        async with replicas.reads(graph.rt.replicas, maybe_user.id if maybe_user else None):
            return await graph.connections(username, maybe_user.id if maybe_user else None, "followers", limit, cursor)

    @get("/{username:str}/following", summary="Followed accounts, newest first", responses=problems(403, 404, 422))
    async def following(
        self,
        username: Username,
        maybe_user: MaybeUser,
        graph: NamedDependency[GraphService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.UserPage:
        async with replicas.reads(graph.rt.replicas, maybe_user.id if maybe_user else None):
            return await graph.connections(username, maybe_user.id if maybe_user else None, "following", limit, cursor)

    @post(
        "/{username:str}/block",
        guards=[write_limit("follows")],
        status_code=204,
        summary="Block (removes follows both ways)",
        responses=problems(401, 404, 422),
    )
    async def block(self, username: Username, viewer: Viewer, graph: NamedDependency[GraphService]) -> None:
        await graph.block(viewer.id, username)

    @delete("/{username:str}/block", status_code=204, summary="Unblock", responses=problems(401, 404))
    async def unblock(self, username: Username, viewer: Viewer, graph: NamedDependency[GraphService]) -> None:
        await graph.unblock(viewer.id, username)

    @post(
        "/{username:str}/mute",
        guards=[write_limit("follows")],
        status_code=204,
        summary="Mute (hidden from my feeds)",
        responses=problems(401, 404, 422),
    )
    async def mute(self, username: Username, viewer: Viewer, graph: NamedDependency[GraphService]) -> None:
        await graph.mute(viewer.id, username, on=True)

    @delete("/{username:str}/mute", status_code=204, summary="Unmute", responses=problems(401, 404))
    async def unmute(self, username: Username, viewer: Viewer, graph: NamedDependency[GraphService]) -> None:
        await graph.mute(viewer.id, username, on=False)
