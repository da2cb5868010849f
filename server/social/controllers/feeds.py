"""Feeds and hashtags: home, public, trending."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import PathParameter

from server import replicas
from server.ads.deps import page_ads
from server.deps import MaybeUser, remember_user, required_token
from server.openapi import problems
from server.params import Cursor, Limit
from server.social import schemas
from server.social.deps import home_read_of, social_of
from server.social.services.feeds import FeedService

Tag = Annotated[str, PathParameter(max_length=101)]


class FeedController(Controller):
    path = "/feeds"
    tags = ["feeds"]

    @get("/home", summary="My home feed (followed accounts and me)", responses=problems(401, 422))
    async def home(
        self,
        request: Request,  # type: ignore[type-arg]
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> schemas.HomePage:
        # No DI: the session check is one of the reads ``HomeRead`` sends in one Redis round trip, and a
        # second provider next to another makes Litestar resolve them in an anyio task group.
        rt = social_of(request)
        feeds = FeedService(rt)
        token = required_token(request)
        max_id, count = feeds.home_first(limit, cursor)
        # First page: also where to subscribe `timeline:home:{id}` from, so no live post falls in the gap.
        start = await home_read_of(request).start(token, max_id, count, first_page=cursor is None)
        viewer = start.viewer
        remember_user(request, viewer)
        await rt.touch(viewer.id)
        async with replicas.reads(rt.replicas, viewer.id):
            page = await feeds.home(viewer.id, limit, cursor, first=start.first)
        ads = await page_ads(request, viewer.id, len(page.items))
        return schemas.HomePage(items=page.items, next_cursor=page.next_cursor, position=start.position, ads=ads)

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
        async with replicas.reads(feeds.rt.replicas, viewer):
            page = await feeds.public(viewer, limit, cursor)
        ads = await page_ads(request, viewer, len(page.items))
        return schemas.PublicPage(items=page.items, next_cursor=page.next_cursor, ads=ads)

    @get("/trending", summary="Public posts by time-decayed engagement", responses=problems(422))
    async def trending(
        self, maybe_user: MaybeUser, feeds: NamedDependency[FeedService], limit: Limit = 20, cursor: Cursor = None
    ) -> schemas.PostPage:
        async with replicas.reads(feeds.rt.replicas, maybe_user.id if maybe_user else None):
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
        async with replicas.reads(feeds.rt.replicas, maybe_user.id if maybe_user else None):
            return await feeds.hashtag(maybe_user.id if maybe_user else None, tag, limit, cursor)
