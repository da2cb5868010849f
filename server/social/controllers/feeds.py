"""Feeds, hashtags, reports and moderation endpoints."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from server import replicas
from server.ads.deps import page_ads
from server.deps import MaybeUser
from server.openapi import problems
from server.ratelimit import write_limit
from server.social import schemas
from server.social._deps import Cursor, Limit, PathId, Viewer
from server.social.feeds import FeedService
from server.social.moderation import ModerationService, parse_id

Tag = Annotated[str, PathParameter(max_length=101)]


class FeedController(Controller):
    path = "/feeds"
    tags = ["feeds"]

    @get("/home", summary="My home feed (followed accounts and me)", responses=problems(401, 422))
    async def home(
        self,
        request: Request,  # type: ignore[type-arg]
        viewer: Viewer,
        feeds: NamedDependency[FeedService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.HomePage:
        async with replicas.reads(viewer.id):
            page = await feeds.home(viewer.id, limit, cursor)
        # First page: where to subscribe `timeline:home:{id}` from, so no live post falls in the gap.
        position = await feeds.rt.home_position(viewer.id) if cursor is None else None
        ads = await page_ads(request, viewer.id, len(page.items))
        return schemas.HomePage(items=page.items, next_cursor=page.next_cursor, position=position, ads=ads)

    @get("/public", summary="Every public post, newest first", responses=problems(422))
    async def public(
        self,
        request: Request,  # type: ignore[type-arg]
        maybe_user: MaybeUser,
        feeds: NamedDependency[FeedService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.PublicPage:
        viewer = maybe_user.id if maybe_user else None
        async with replicas.reads(viewer):
            page = await feeds.public(viewer, limit, cursor)
        ads = await page_ads(request, viewer, len(page.items))
        return schemas.PublicPage(items=page.items, next_cursor=page.next_cursor, ads=ads)

    @get("/trending", summary="Public posts by time-decayed engagement", responses=problems(422))
    async def trending(
        self, maybe_user: MaybeUser, feeds: NamedDependency[FeedService], limit: Limit = 20, cursor: Cursor = None
    ) -> schemas.PostPage:
        async with replicas.reads(maybe_user.id if maybe_user else None):
            return await feeds.trending_posts(maybe_user.id if maybe_user else None, limit, cursor)


class HashtagController(Controller):
    path = "/hashtags"
    tags = ["feeds"]

    @get("/trending", summary="Hashtags by time-decayed use and engagement", responses=problems(422))
    async def trending(
        self, feeds: NamedDependency[FeedService], limit: Limit = 20, cursor: Cursor = None
    ) -> schemas.TagPage:
        return await feeds.trending_tags(limit, cursor)

    @get("/{tag:str}/posts", summary="Public posts with this hashtag", responses=problems(404, 422))
    async def posts(
        self,
        tag: Tag,
        maybe_user: MaybeUser,
        feeds: NamedDependency[FeedService],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.PostPage:
        async with replicas.reads(maybe_user.id if maybe_user else None):
            return await feeds.hashtag(maybe_user.id if maybe_user else None, tag, limit, cursor)


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
