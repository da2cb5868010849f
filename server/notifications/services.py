"""Notifications: creating them once (in the caller's transaction), listing, grouping, marking read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from models.ids import new_id
from server import cursor, db, jobqueue, outbox
from server.accounts.schemas import UserPublic, user_public
from server.errors import NotFound, ValidationFailed
from server.notifications import catalog, preferences, queries
from server.notifications.runtime import PositionOf
from server.notifications.schemas import (
    ChannelPosition,
    GroupPage,
    MarkRead,
    Notification,
    NotificationGroup,
    NotificationPage,
    Subject,
)
from server.realtime import kinds
from server.settings import Settings


def user_channel(user_id: int) -> str:
    return kinds.user(user_id)


async def users_by_id(ids: set[int]) -> dict[int, UserPublic]:
    if not ids:
        return {}
    rows = await queries.users_public(list(ids))
    return {row["id"]: user_public(row) for row in rows}


def _view(row: dict[str, Any], actors: dict[int, UserPublic]) -> Notification:
    extra = row["extra"]
    if isinstance(extra, str):
        extra = msgspec.json.decode(extra)
    subject = Subject(type=row["subject_type"], id=str(row["subject_id"])) if row["subject_type"] else None
    return Notification(
        id=str(row["id"]),
        type=row["type"],
        actor=actors.get(row["actor"]) if row["actor"] else None,
        subject=subject,
        created_at=row["created_at"],
        read=row["read_at"] is not None,
        group_key=row["group_key"],
        extra=extra or {},
    )


async def notify(
    recipient_id: int,
    type_: str,
    actor_id: int | None,
    subject_type: str = "",
    subject_id: int = 0,
    extra: dict[str, Any] | None = None,
    *,
    collapse_seconds: float = 0.0,
) -> Notification | None:
    """Record that ``actor_id`` did ``type_`` to ``recipient_id``, once; emit it live and queue its push.

    Call inside the transaction of the change that caused it. Returns ``None`` when nothing was made:
    one's own action, a block or mute, the type switched off in-app, or the same notification exists.
    ``collapse_seconds`` (the settings' ``push.collapse_seconds``, passed by ``NotificationHandlers``) delays
    the push of a type grouped by subject (like, repost) so that a burst becomes one push; other types
    push at once whatever it says.
    """
    if type_ not in catalog.TYPES:
        raise ValueError(f"unknown notification type {type_!r}")
    if actor_id is not None and (actor_id == recipient_id or await queries.is_silenced(recipient_id, actor_id)):
        return None
    prefs = await preferences.load(recipient_id)
    if not prefs.allows(type_, "in_app"):
        return None
    nid = new_id()
    now = datetime.now(UTC)
    key = catalog.group_key(type_, subject_type, subject_id, nid, now.date().isoformat())
    row = await queries.insert_notification(
        nid,
        recipient_id,
        type_,
        actor_id,
        subject_type,
        subject_id,
        key,
        msgspec.json.encode(extra or {}).decode(),
        now,
    )
    if row is None:
        return None
    view = _view(row, await users_by_id({actor_id} if actor_id else set()))
    if prefs.allows(type_, "push"):
        delay = collapse_seconds if key.split(":")[0] in catalog.GROUPED_BY_SUBJECT else 0
        await jobqueue.enqueue(
            "notifications.push",
            {"user_id": recipient_id, "group_key": key},
            queueing_lock=f"push:{recipient_id}:{key}",
            delay=delay,
        )
    # Last: the outbox serializes emitting transactions from their first emit to their commit.
    await outbox.emit(user_channel(recipient_id), "notification.created", view)
    return view


async def notify_now(
    recipient_id: int,
    type_: str,
    actor_id: int | None,
    subject_type: str = "",
    subject_id: int = 0,
    extra: dict[str, Any] | None = None,
) -> Notification | None:
    """``notify`` in a transaction of its own (for producers that are not inside one, e.g. ``system``)."""
    async with db.transaction():
        return await notify(recipient_id, type_, actor_id, subject_type, subject_id, extra)


class NotificationService:
    """The caller's own notifications: list, grouped list, unread count, mark read."""

    def __init__(self, settings: Settings, position_of: PositionOf) -> None:
        self.key = settings.security.secret_key
        self.position_of = position_of

    def _types(self, types: list[str] | None) -> list[str]:
        unknown = sorted(set(types or ()) - set(catalog.TYPES))
        if unknown:
            raise ValidationFailed(f"unknown notification types: {', '.join(unknown)}")
        return list(types or catalog.TYPES)

    async def _position(self, user_id: int, first_page: bool) -> ChannelPosition | None:
        if not first_page:
            return None
        channel = user_channel(user_id)
        # Read before the rows, so a subscribe ``since`` it replays anything that lands after the page.
        position = await self.position_of(channel)
        if position is None:
            return None
        return ChannelPosition(channel=channel, offset=int(position.offset), epoch=str(position.epoch))

    async def page(self, user_id: int, types: list[str] | None, limit: int, after: str | None) -> NotificationPage:
        wanted = self._types(types)
        before = cursor.decode_id(self.key, "n", after) if after else None
        position = await self._position(user_id, after is None)
        rows = await queries.notifications_page(user_id, wanted, before, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        actors = await users_by_id({r["actor"] for r in rows if r["actor"]})
        items = [_view(r, actors) for r in rows]
        next_cursor = cursor.encode(self.key, "n", [rows[-1]["id"]]) if more else None
        return NotificationPage(items=items, next_cursor=next_cursor, position=position)

    async def grouped(self, user_id: int, types: list[str] | None, limit: int, after: str | None) -> GroupPage:
        wanted = self._types(types)
        before = cursor.decode_id(self.key, "g", after) if after else None
        position = await self._position(user_id, after is None)
        rows = await queries.notification_groups_page(user_id, wanted, before, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        actors = await users_by_id({a for r in rows for a in (r["sample"] or [])})
        items = [
            NotificationGroup(
                group_key=r["group_key"],
                type=r["type"],
                subject=Subject(type=r["subject_type"], id=str(r["subject_id"])) if r["subject_type"] else None,
                sample_actors=[actors[a] for a in (r["sample"] or []) if a in actors],
                actors_count=r["actors_count"],
                notifications_count=r["n"],
                most_recent_notification_id=str(r["latest_id"]),
                latest_at=r["latest_at"],
                read=r["read"],
            )
            for r in rows
        ]
        next_cursor = cursor.encode(self.key, "g", [rows[-1]["latest_id"]]) if more else None
        return GroupPage(items=items, next_cursor=next_cursor, position=position)

    async def unread_count(self, user_id: int) -> int:
        return await queries.unread_count(user_id)

    async def mark_read(self, user_id: int, data: MarkRead) -> None:
        """Mark ``data.ids`` (all the caller's own, else 404 and nothing changes) or everything read."""
        if data.all == bool(data.ids):
            raise ValidationFailed("give either a non-empty ids list or all: true")
        async with db.transaction():
            if data.all:
                changed = await queries.mark_all_read(user_id)
            else:
                ids = sorted({int(i) for i in data.ids or ()})
                if ids[-1] >= 1 << 63:
                    raise NotFound("some of these notifications do not exist")
                if await queries.owned_count(user_id, ids) != len(ids):
                    raise NotFound("some of these notifications do not exist")
                changed = await queries.mark_read(user_id, ids)
            if not changed and not data.all:
                return
            unread = await self.unread_count(user_id)
            await outbox.emit(
                user_channel(user_id),
                "notification.read",
                {"ids": [str(i) for i in changed], "all": data.all, "unread_count": unread},
            )
