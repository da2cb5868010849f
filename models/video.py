"""Videos: the video itself (upload state, processing result, counters), likes and viewing sessions.

Pair uniqueness (one like per user, one row per viewing session) and the search indexes are added by a
raw migration next to the generated one.
"""

from enum import Enum

from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    DoublePrecision,
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


class Video(Table, tablename="videos"):
    class Visibility(str, Enum):
        public = "public"
        unlisted = "unlisted"
        followers = "followers"
        subscribers = "subscribers"
        private = "private"

    class Status(str, Enum):
        uploading = "uploading"
        processing = "processing"
        ready = "ready"
        failed = "failed"

    class Moderation(str, Enum):
        approved = "approved"
        pending = "pending"
        rejected = "rejected"

    id = BigInt(primary_key=True, default=new_id)
    owner = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=255)
    description = Text(default="")
    tags = Array(base_column=Varchar(length=50), default=list, help_text="lower-case")
    search_text = Text(default="", help_text="title, description and tags, for full-text and trigram search")
    visibility = Varchar(length=16, choices=Visibility, default=Visibility.public.value)
    status = Varchar(length=16, choices=Status, default=Status.uploading.value, index=True)
    failure_reason = Varchar(length=64, null=True, default=None)
    moderation = Varchar(length=16, choices=Moderation, default=Moderation.approved.value, index=True)
    duration = DoublePrecision(null=True, default=None, help_text="seconds")
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    renditions = JSONB(default=[], help_text="[{height, width, bandwidth}] of the HLS ladder")
    thumbnail = Varchar(length=100, null=True, default=None, help_text="file name of the poster in storage")
    upload_length = BigInt(null=True, default=None, help_text="tus Upload-Length; null until the upload is created")
    upload_offset = BigInt(default=0)
    upload_expires_at = Timestamptz(null=True, default=None)
    source_path = Text(null=True, default=None, help_text="the staged source file while it is needed")
    size_bytes = BigInt(default=0, help_text="bytes counted against the owner's quota")
    job_id = BigInt(null=True, default=None, help_text="the procrastinate job processing it")
    post = BigInt(null=True, default=None, index=True, help_text="the feed post that carries it")
    price_amount = BigInt(null=True, default=None, help_text="paid video: minor units; viewers buy it to watch it")
    price_currency = Varchar(length=3, null=True, default=None)
    view_count = BigInt(default=0)
    like_count = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None, help_text="when it became ready")
    deleted_at = Timestamptz(null=True, default=None)


class VideoLike(Table, tablename="video_likes"):
    id = BigInt(primary_key=True, default=new_id)
    video = ForeignKey(Video, null=False, on_delete=OnDelete.cascade)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class VideoView(Table, tablename="video_views"):
    """One viewing session: how far and how long it watched, which 5 % slices it saw."""

    id = BigInt(primary_key=True, default=new_id)
    video = ForeignKey(Video, null=False, on_delete=OnDelete.cascade)
    viewer = BigInt(null=True, default=None, help_text="the signed-in viewer, if any")
    viewer_key = Varchar(length=80, help_text="user id, or a hash of the client address when anonymous")
    session_id = Varchar(length=64)
    watched = DoublePrecision(default=0.0, help_text="seconds watched, as the player reports")
    slices = BigInt(default=0, help_text="bit i set: the session played within the i-th 5 % of the video")
    counted_at = Timestamptz(null=True, default=None, help_text="when it passed 3 s and counted as a view")
    in_view_count = Integer(default=0, help_text="1 when it also raised view_count (once per viewer per 24 h)")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
