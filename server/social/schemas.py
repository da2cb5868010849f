"""Wire types for users, the graph, posts, comments, feeds and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.datastructures import UploadFile

from server.ads.schemas import AdSlot

PostText = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
CommentText = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Visibility = Literal["public", "followers", "private", "subscribers"]


class UserSummary(msgspec.Struct):
    """A user as lists and posts show them."""

    id: str
    username: str
    display_name: str
    avatar_url: str | None
    followers_count: int
    following_count: int
    posts_count: int
    is_private: bool


def author_summary(r: Any, id_key: str) -> UserSummary:
    """The summary from a row that joined the user's columns as ``a_*`` (its id in ``r[id_key]``)."""
    return UserSummary(
        id=str(r[id_key]),
        username=r["a_username"],
        display_name=r["a_display_name"],
        avatar_url=r["a_avatar_url"],
        followers_count=r["a_followers_count"],
        following_count=r["a_following_count"],
        posts_count=r["a_posts_count"],
        is_private=r["a_is_private"],
    )


class Link(msgspec.Struct, forbid_unknown_fields=True):
    label: Annotated[str, msgspec.Meta(max_length=40)]
    url: Annotated[str, msgspec.Meta(max_length=300, pattern=r"^https?://\S+$")]


class Relationship(msgspec.Struct):
    """How the viewer relates to a profile (all false for anonymous viewers and oneself)."""

    following: bool = False
    followed_by: bool = False
    requested: bool = False
    blocking: bool = False
    muting: bool = False


class Profile(msgspec.Struct):
    id: str
    username: str
    display_name: str
    avatar_url: str | None
    followers_count: int
    following_count: int
    posts_count: int
    is_private: bool
    bio: str
    links: list[Link]
    created_at: datetime
    relationship: Relationship


class ProfileUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """``PATCH /users/me``: only the fields sent change."""

    display_name: Annotated[str, msgspec.Meta(max_length=64)] | msgspec.UnsetType = msgspec.UNSET
    bio: Annotated[str, msgspec.Meta(max_length=500)] | msgspec.UnsetType = msgspec.UNSET
    links: Annotated[list[Link], msgspec.Meta(max_length=5)] | msgspec.UnsetType = msgspec.UNSET
    is_private: bool | msgspec.UnsetType = msgspec.UNSET


class FollowResult(msgspec.Struct):
    """``state``: ``following`` or ``requested`` (a private account must accept)."""

    state: Literal["following", "requested", "none"]
    user: UserSummary


class Mention(msgspec.Struct):
    id: str
    username: str


class Media(msgspec.Struct):
    """An image attached to a post."""

    id: str
    url: str
    width: int
    height: int


class VideoAttachment(msgspec.Struct):
    """The video a post carries (``GET /videos/{id}`` for its playback)."""

    id: str
    title: str
    duration: float | None
    width: int | None
    height: int | None


class Price(msgspec.Struct):
    """A paid post's price: minor units and a lower-case ISO currency."""

    amount: Annotated[int, msgspec.Meta(gt=0, le=1_000_000)]
    currency: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{3}$")]


class Post(msgspec.Struct):
    id: str
    author: UserSummary
    text: str
    visibility: str
    hashtags: list[str]
    mentions: list[Mention]
    created_at: datetime
    edited_at: datetime | None
    like_count: int
    comment_count: int
    repost_count: int
    liked_by_me: bool
    reposted_by_me: bool
    bookmarked_by_me: bool
    media: list[Media] = msgspec.field(default_factory=list)
    repost_of: Post | None = None
    video: VideoAttachment | None = None
    price: Price | None = None
    """Set on a paid post; until the viewer buys it (POST /payments/purchases) it is ``locked``."""
    locked: bool = False


MediaId = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,19}$")]


class PostCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: PostText
    visibility: Visibility = "public"
    media_ids: Annotated[list[MediaId], msgspec.Meta(max_length=4)] = msgspec.field(default_factory=list)
    price: Price | None = None
    """Creators only: readers see a locked teaser until they buy the post."""


class PostUpdate(msgspec.Struct, forbid_unknown_fields=True):
    text: PostText


class PostEditView(msgspec.Struct):
    text: str
    created_at: datetime


class PostEditPage(msgspec.Struct):
    items: list[PostEditView]
    next_cursor: str | None


class Comment(msgspec.Struct):
    id: str
    post_id: str
    author: UserSummary
    text: str
    parent_id: str | None
    like_count: int
    reply_count: int
    liked_by_me: bool
    created_at: datetime


class CommentCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: CommentText
    parent_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,19}$")] | None = None


class TrendingTag(msgspec.Struct):
    tag: str
    score: float


class ReportCreate(msgspec.Struct, forbid_unknown_fields=True):
    target_type: Literal["post", "comment", "user"]
    target_id: Annotated[str, msgspec.Meta(min_length=1, max_length=30)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class ReportView(msgspec.Struct):
    id: str
    target_type: str
    target_id: str
    reason: str
    status: str
    created_at: datetime


class Removal(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class Position(msgspec.Struct):
    """A realtime channel position to resume live events from (``since`` of a subscribe)."""

    offset: int
    epoch: str


class UserPage(msgspec.Struct):
    items: list[UserSummary]
    next_cursor: str | None


class PostPage(msgspec.Struct):
    items: list[Post]
    next_cursor: str | None


class HomePage(msgspec.Struct):
    """The home feed; the first page carries the ``timeline:home:{id}`` position to subscribe from."""

    items: list[Post]
    next_cursor: str | None
    position: Position | None = None
    ads: list[AdSlot] = []
    """Sponsored posts to show between ``items`` (at most one per 5 posts)."""


class PublicPage(PostPage):
    """The public feed, with sponsored posts between ``items`` for a signed-in viewer."""

    ads: list[AdSlot] = []


class CommentPage(msgspec.Struct):
    items: list[Comment]
    next_cursor: str | None


class TagPage(msgspec.Struct):
    items: list[TrendingTag]
    next_cursor: str | None


class ReportPage(msgspec.Struct):
    items: list[ReportView]
    next_cursor: str | None


@dataclass
class ImageUpload:
    """A multipart upload: the image in the form field ``data`` (a missing field is a 400, not a crash)."""

    data: UploadFile
