"""DI providers and shared parameter types of the social controllers."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from server.deps import CurrentUser, user_from_connection
from server.social.home_read import HomeRead
from server.social.runtime import SocialRuntime
from server.social.services.comments import CommentService
from server.social.services.feeds import FeedService
from server.social.services.graph import GraphService
from server.social.services.moderation import ModerationService
from server.social.services.posts import PostService


def social_of(request: Request) -> SocialRuntime:  # type: ignore[type-arg]
    """The social runtime, read by a handler itself where a second DI provider would cost (the home feed)."""
    return request.app.state["social"]  # type: ignore[no-any-return]


def home_read_of(request: Request) -> HomeRead:  # type: ignore[type-arg]
    """The home feed's batched first read (``server.social.home_read``), read by the handler itself."""
    return request.app.state["home_read"]  # type: ignore[no-any-return]


def provide_runtime(state: State) -> SocialRuntime:
    return state["social"]  # type: ignore[no-any-return]


# The providers on the home-feed path take ``request``/``state`` (reserved kwargs) rather than other
# dependencies: Litestar resolves each level of the dependency graph with more than one provider in an
# anyio task group, and two such groups per request were a measurable share of a home-feed read.


async def provide_viewer(request: Request) -> CurrentUser:
    """The authenticated caller (401 without a valid token), marked recently active (who gets live home events)."""
    user = await user_from_connection(request)
    await request.app.state["social"].touch(user.id)
    return user


Viewer = NamedDependency[CurrentUser]


def _graph(social: NamedDependency[SocialRuntime]) -> GraphService:
    return GraphService(social)


def _posts(social: NamedDependency[SocialRuntime]) -> PostService:
    return PostService(social)


def _comments(social: NamedDependency[SocialRuntime]) -> CommentService:
    return CommentService(social)


def _feeds(state: State) -> FeedService:
    return FeedService(state["social"])


def _moderation(social: NamedDependency[SocialRuntime]) -> ModerationService:
    return ModerationService(social)


dependencies = {
    "social": Provide(provide_runtime, sync_to_thread=False),
    "viewer": Provide(provide_viewer),
    "graph": Provide(_graph, sync_to_thread=False),
    "posts": Provide(_posts, sync_to_thread=False),
    "comments": Provide(_comments, sync_to_thread=False),
    "feeds": Provide(_feeds, sync_to_thread=False),
    "moderation": Provide(_moderation, sync_to_thread=False),
}
