"""Live streams: the stream (with its hashed ingest key), its chat (messages and tips) and its bans."""

from enum import Enum

from piccolo.columns import BigInt, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from models.accounts import User
from models.ids import new_id


class LiveStream(Table, tablename="live_streams"):
    """One broadcast: ``idle`` until the media server accepts its key, ``live``, then ``ended`` for good."""

    class Status(str, Enum):
        idle = "idle"
        live = "live"
        ended = "ended"

    class Visibility(str, Enum):
        public = "public"
        followers = "followers"
        private = "private"

    id = BigInt(primary_key=True, default=new_id)
    owner = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    visibility = Varchar(length=16, choices=Visibility, default=Visibility.public.value)
    status = Varchar(length=16, choices=Status, default=Status.idle.value, index=True)
    key_hash = Varchar(length=64, unique=True, secret=True, help_text="SHA-256 of the current stream key")
    slow_mode_seconds = Integer(default=0, help_text="0 = off; else one chat message per user per N seconds")
    started_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    current_viewers = Integer(default=0)
    peak_viewers = Integer(default=0)
    client_id = Varchar(length=64, default="", help_text="the media server's id of the publishing connection")
    replay_video = BigInt(null=True, default=None, help_text="the video made from the recording")
    created_at = Timestamptz(default=TimestamptzNow())


class LiveChatMessage(Table, tablename="live_chat_messages"):
    """A chat line or a confirmed tip in a stream's room, kept for history after the channel forgets it."""

    class Kind(str, Enum):
        chat = "chat"
        tip = "tip"

    id = BigInt(primary_key=True, default=new_id)
    stream = ForeignKey(LiveStream, null=False, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    kind = Varchar(length=8, choices=Kind, default=Kind.chat.value)
    text = Text(default="")
    amount = BigInt(null=True, default=None, help_text="tips: minor units")
    currency = Varchar(length=3, null=True, default=None)
    payment_id = BigInt(null=True, default=None, unique=True, help_text="tips: the payment, once")
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)
    deleted_by = BigInt(null=True, default=None)


class LiveBan(Table, tablename="live_bans"):
    """A user who may not chat in a stream's room: for good (``until`` null) or until a time (a time-out)."""

    id = BigInt(primary_key=True, default=new_id)
    stream = ForeignKey(LiveStream, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    until = Timestamptz(null=True, default=None)
    created_by = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())
