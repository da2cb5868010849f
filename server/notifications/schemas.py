"""Wire types for notifications, preferences, author subscriptions and push tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from server.accounts.schemas import UserPublic

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=r"^[0-9]+$")]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class Subject(msgspec.Struct):
    type: str
    id: str


class Notification(msgspec.Struct):
    """``{id, type, actor, subject, created_at, read}`` plus the group it belongs to."""

    id: str
    type: str
    actor: UserPublic | None
    subject: Subject | None
    created_at: datetime
    read: bool
    group_key: str
    extra: dict[str, Any] = {}


class ChannelPosition(msgspec.Struct):
    """Where the ``user:{id}`` channel stood when the page was read; subscribe ``since`` it."""

    channel: str
    offset: int
    epoch: str


class NotificationPage(msgspec.Struct):
    items: list[Notification]
    next_cursor: str | None
    position: ChannelPosition | None = None


class NotificationGroup(msgspec.Struct):
    """Notifications sharing a ``group_key``: "alice and 4 others liked your post"."""

    group_key: str
    type: str
    subject: Subject | None
    sample_actors: list[UserPublic]
    actors_count: int
    notifications_count: int
    most_recent_notification_id: str
    latest_at: datetime
    read: bool


class GroupPage(msgspec.Struct):
    items: list[NotificationGroup]
    next_cursor: str | None
    position: ChannelPosition | None = None


class UnreadCount(msgspec.Struct):
    count: int


class MarkRead(msgspec.Struct, forbid_unknown_fields=True):
    """Either ``ids`` (1..500 of the caller's notifications) or ``all: true``."""

    ids: Annotated[list[Id], msgspec.Meta(max_length=500)] | None = None
    all: bool = False


class ChannelPrefs(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    in_app: bool | None = None
    push: bool | None = None
    email: bool | None = None


class QuietHours(msgspec.Struct, forbid_unknown_fields=True):
    """Pushes wait while the user's local time is in ``[start, end)``; may wrap past midnight."""

    start: HHMM
    end: HHMM


class PreferencesUpdate(msgspec.Struct, forbid_unknown_fields=True):
    types: dict[str, ChannelPrefs] | None = None
    quiet_hours: QuietHours | msgspec.UnsetType | None = msgspec.UNSET
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | msgspec.UnsetType | None = msgspec.UNSET
    push_while_online: bool | None = None


class Preferences(msgspec.Struct):
    types: dict[str, dict[str, bool]]
    quiet_hours: QuietHours | None
    timezone: str
    push_while_online: bool


class PushTokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``token``: FCM registration token, APNs device token (64 hex) or a Web Push subscription."""

    platform: str
    token: str | dict[str, Any]
    device_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    environment: str | None = None
    locale: Annotated[str, msgspec.Meta(min_length=2, max_length=16)] | None = None


class PushTokenView(msgspec.Struct):
    id: str
    platform: str
    token: str
    device_id: str | None
    environment: str | None
    created_at: datetime
    last_seen_at: datetime


class PushTokenPage(msgspec.Struct):
    items: list[PushTokenView]
    next_cursor: str | None = None


class VapidKey(msgspec.Struct):
    public_key: str
