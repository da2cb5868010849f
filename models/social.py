"""Social graph, posts, comments, likes, bookmarks and reports.

Pair uniqueness (one follow, one like…) is enforced by unique indexes added in a raw migration,
so writes can be idempotent with ``ON CONFLICT DO NOTHING``.
"""

from enum import Enum

from piccolo.columns import (
    Array,
    BigInt,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from models.accounts import User
from models.ids import new_id


class Follow(Table, tablename="follows"):
    """``follower`` follows ``followee`` (accepted)."""

    id = BigInt(primary_key=True, default=new_id)
    follower = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    followee = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class FollowRequest(Table, tablename="follow_requests"):
    """A pending follow of a private account."""

    id = BigInt(primary_key=True, default=new_id)
    requester = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    target = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class Block(Table, tablename="blocks"):
    id = BigInt(primary_key=True, default=new_id)
    blocker = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    blocked = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class Mute(Table, tablename="mutes"):
    id = BigInt(primary_key=True, default=new_id)
    muter = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    muted = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class Post(Table, tablename="posts"):
    class Visibility(str, Enum):
        public = "public"
        followers = "followers"
        private = "private"
        subscribers = "subscribers"

    id = BigInt(primary_key=True, default=new_id)
    author = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    text = Text(default="")
    visibility = Varchar(length=16, choices=Visibility, default=Visibility.public.value)
    hashtags = Array(base_column=Varchar(length=100), default=list, help_text="lower-case, without #")
    mentions = Array(base_column=BigInt(), default=list, help_text="ids of mentioned users")
    repost_of = BigInt(null=True, default=None, help_text="the original post, for a repost")
    like_count = Integer(default=0)
    comment_count = Integer(default=0)
    repost_count = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    edited_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    removed_by = BigInt(null=True, default=None, help_text="moderator who removed it")
    price_amount = BigInt(null=True, default=None, help_text="paid post: minor units; readers buy it to see it")
    price_currency = Varchar(length=3, null=True, default=None)


class PostEdit(Table, tablename="post_edits"):
    """The text a post had before an edit."""

    id = BigInt(primary_key=True, default=new_id)
    post = ForeignKey(Post, null=False, on_delete=OnDelete.cascade, index=True)
    text = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class PostLike(Table, tablename="post_likes"):
    id = BigInt(primary_key=True, default=new_id)
    post = ForeignKey(Post, null=False, on_delete=OnDelete.cascade)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class Bookmark(Table, tablename="bookmarks"):
    id = BigInt(primary_key=True, default=new_id)
    post = ForeignKey(Post, null=False, on_delete=OnDelete.cascade)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class Comment(Table, tablename="comments"):
    id = BigInt(primary_key=True, default=new_id)
    post = ForeignKey(Post, null=False, on_delete=OnDelete.cascade)
    author = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    parent = BigInt(null=True, default=None, help_text="the comment this replies to")
    text = Text()
    mentions = Array(base_column=BigInt(), default=list)
    like_count = Integer(default=0)
    reply_count = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)


class CommentLike(Table, tablename="comment_likes"):
    id = BigInt(primary_key=True, default=new_id)
    comment = ForeignKey(Comment, null=False, on_delete=OnDelete.cascade)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class Report(Table, tablename="reports"):
    class Target(str, Enum):
        post = "post"
        comment = "comment"
        user = "user"

    id = BigInt(primary_key=True, default=new_id)
    reporter = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    target_type = Varchar(length=16, choices=Target)
    target_id = BigInt()
    reason = Text()
    status = Varchar(length=16, default="open", index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    resolved_at = Timestamptz(null=True, default=None)
    resolved_by = BigInt(null=True, default=None)


class PostMedia(Table, tablename="post_media"):
    """An uploaded image (re-encoded, metadata stripped), attached to at most one post of its owner."""

    id = BigInt(primary_key=True, default=new_id)
    owner = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    post = BigInt(null=True, default=None, index=True, help_text="the post it is attached to")
    url = Varchar(length=500)
    width = Integer()
    height = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
