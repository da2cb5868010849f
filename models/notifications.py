"""Notifications: what happened to a user, how they want to hear about it, and where to push it."""

from piccolo.columns import JSONB, BigInt, Boolean, ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from models.accounts import User
from models.ids import new_id


class Notification(Table, tablename="notifications"):
    """One thing that happened to ``recipient``; a unique index (raw migration) makes it happen once."""

    id = BigInt(primary_key=True, default=new_id)
    recipient = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    type = Varchar(length=32)
    actor = ForeignKey(User, null=True, on_delete=OnDelete.cascade, help_text="null for system notices")
    subject_type = Varchar(length=32, default="", help_text="post, comment, user, live, payment, ''")
    subject_id = BigInt(default=0, help_text="0 when there is no subject")
    group_key = Varchar(length=200, help_text="notifications sharing it show as one group")
    extra = JSONB(default={}, help_text="type-specific detail, e.g. the comment id of a reply")
    read_at = Timestamptz(null=True, default=None)
    pushed_at = Timestamptz(null=True, default=None, help_text="set once a push carried it (or was skipped)")
    emailed_at = Timestamptz(null=True, default=None, help_text="set once a digest mail carried it")
    created_at = Timestamptz(default=TimestamptzNow())


class NotificationPreference(Table, tablename="notification_preferences"):
    """A user's overrides of the default type x channel matrix, and their quiet hours."""

    user = ForeignKey(User, primary_key=True, null=False, on_delete=OnDelete.cascade)
    matrix = JSONB(default={}, help_text='{"like": {"push": false}, ...}: only the overrides')
    quiet_start = Varchar(length=5, null=True, default=None, help_text="HH:MM in the user's time zone")
    quiet_end = Varchar(length=5, null=True, default=None)
    timezone = Varchar(length=64, null=True, default=None, help_text="null: the account's time zone")
    push_while_online = Boolean(default=False, help_text="push even while a socket is open")
    last_digest_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class PushToken(Table, tablename="push_tokens"):
    """A device (FCM, APNs) or browser (Web Push) registration; unique per (platform, token)."""

    id = BigInt(primary_key=True, default=new_id)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    platform = Varchar(length=16, help_text="fcm, apns, webpush")
    token = Text(secret=True, help_text="FCM registration token, APNs device token hex, Web Push endpoint")
    token_hash = Varchar(length=64, unique=True, help_text="sha256 of platform:token, for the unique index")
    keys = JSONB(default={}, secret=True, help_text="Web Push p256dh and auth")
    environment = Varchar(length=16, default="", help_text="APNs: sandbox or production")
    device_id = Varchar(length=200, null=True, default=None)
    locale = Varchar(length=16, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())


class AuthorSubscription(Table, tablename="author_subscriptions"):
    """``user`` asked to be told when ``author`` publishes (``new_post``)."""

    id = BigInt(primary_key=True, default=new_id)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    author = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
