"""Videos: create, read, edit, delete, playback, likes, reports and the approval queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from models.ids import new_id
from server import db, outbox
from server.accounts import audit
from server.deps import CurrentUser
from server.errors import Conflict, DomainError, Forbidden, NotFound, PaymentRequired
from server.guards import has_capability, has_role
from server.realtime import kinds, recheck
from server.video import schemas
from server.video.queries import processing as processing_queries
from server.video.queries import reads as read_queries
from server.video.queries import writes as write_queries
from server.video.runtime import VideoRuntime
from server.video.views import anonymous_may_see, video_view


class NotReady(DomainError):
    status, code, title = 409, "not_ready", "The video is not ready yet"


def may_upload(user: CurrentUser) -> bool:
    """Creators and admins upload."""
    return has_capability(user, "creator")


def search_text(title: str, description: str, tags: list[str]) -> str:
    return " ".join([title, description, *tags])


def clean_tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


class VideoService:
    def __init__(self, runtime: VideoRuntime) -> None:
        self.rt = runtime

    async def _row(self, user: CurrentUser | None, video_id: int, *, as_staff: bool = True) -> Any:
        """The row if ``user`` may see it. Staff see every video (to review it) unless ``as_staff`` is off:
        social acts (likes, reports) follow what the moderator could see as an ordinary user."""
        viewer = user.id if user else 0
        staff = as_staff and bool(user and has_role(user, "moderator"))
        row = await read_queries.visible_row(viewer, video_id, staff=staff)
        if row is None:
            raise NotFound("no such video")
        return row

    async def _own_row(self, user: CurrentUser, video_id: int) -> Any:
        """The row, when ``user`` owns it or is staff; 404 when they cannot see it, 403 when only see."""
        row = await self._row(user, video_id)
        if row["owner"] != user.id and not has_role(user, "moderator"):
            raise Forbidden("only the owner or a moderator may change this video")
        return row

    async def create(
        self, user: CurrentUser, data: schemas.VideoCreate, *, source_path: str | None = None
    ) -> schemas.Video:
        if not may_upload(user):
            raise Forbidden("only creators and admins upload videos (POST /api/v1/creators/enroll)")
        tags = clean_tags(data.tags)
        expires = datetime.now(UTC) + timedelta(seconds=self.rt.settings.upload_expiry_seconds)
        moderation = "pending" if self.rt.settings.require_approval and not has_role(user, "moderator") else "approved"
        video_id = new_id()
        await write_queries.insert_video(
            video_id,
            user.id,
            data.title,
            data.description,
            tags,
            search_text(data.title, data.description, tags),
            data.visibility,
            moderation,
            expires,
            data.price.amount if data.price else None,
            data.price.currency if data.price else None,
        )
        return await self.get(user, video_id)

    async def get(self, user: CurrentUser | None, video_id: int) -> schemas.Video:
        return video_view(self.rt, await self._row(user, video_id), user.id if user else 0)

    async def update(self, user: CurrentUser, video_id: int, data: schemas.VideoUpdate) -> schemas.Video:
        row = await self._own_row(user, video_id)
        title = row["title"] if data.title is msgspec.UNSET else data.title
        description = row["description"] if data.description is msgspec.UNSET else data.description
        tags = list(row["tags"]) if data.tags is msgspec.UNSET else clean_tags(data.tags)
        visibility = row["visibility"] if data.visibility is msgspec.UNSET else data.visibility
        if data.price is msgspec.UNSET:
            amount, currency = row["price_amount"], row["price_currency"]
        elif row["owner"] != user.id:
            raise Forbidden("only the owner sets a video's price")
        else:
            amount, currency = (data.price.amount, data.price.currency) if data.price else (None, None)
        async with db.transaction():
            await write_queries.update_video(
                video_id,
                title,
                description,
                tags,
                search_text(title, description, tags),
                visibility,
                amount,
                currency,
            )
            if (visibility, amount, currency) != (row["visibility"], row["price_amount"], row["price_currency"]):
                await recheck.request(videos=[video_id])  # other nodes' access caches (this one: forget below)
        self.rt.forget(video_id)
        from server.video.publishing import sync_post

        await sync_post(self.rt, video_id)
        return await self.get(user, video_id)

    async def delete(self, user: CurrentUser, video_id: int) -> None:
        """Soft delete; a running job is cancelled, the files and the staged upload are removed."""
        row = await self._own_row(user, video_id)
        async with db.transaction():
            if not await write_queries.soft_delete_video(video_id):
                raise NotFound("no such video")
            if row["job_id"] is not None and row["status"] in ("uploading", "processing"):
                await processing_queries.cancel_job(row["job_id"])
            if row["owner"] != user.id:
                await audit.record("video.removed", user_id=row["owner"], actor_id=user.id, video_id=str(video_id))
            await recheck.request(videos=[video_id])
        self.rt.forget(video_id)
        from server.video.publishing import remove_post
        from server.video.uploads import discard_staged

        await remove_post(self.rt, row, user)
        discard_staged(self.rt, video_id, row["source_path"])
        await self.rt.storage.delete_prefix(str(video_id))

    async def playback(self, user: CurrentUser | None, video_id: int) -> schemas.Playback:
        row = await self._row(user, video_id)
        if row["status"] != "ready":
            raise NotReady(f"the video is {row['status']}")
        if not row["unlocked"]:
            raise PaymentRequired("buy this video to watch it (POST /api/v1/payments/purchases with video_id)")
        token, expires = self.rt.media_token(video_id, anonymous_may_see(row), user.id if user else 0)
        thumb = self.rt.media_url(video_id, token, row["thumbnail"]) if row["thumbnail"] else None
        return schemas.Playback(
            hls_url=self.rt.media_url(video_id, token, "master.m3u8"),
            expires_at=expires,
            thumbnail_url=thumb,
            storyboard_url=self.rt.media_url(video_id, token, "storyboard.vtt"),
        )

    async def like(self, user: CurrentUser, video_id: int, on: bool) -> schemas.Video:
        row = await self._row(user, video_id, as_staff=False)
        if row["status"] != "ready":
            raise NotReady("only a ready video can be liked")
        async with db.transaction():
            counts = await write_queries.set_video_like(new_id(), video_id, user.id, on)
            if counts is not None:
                await emit_stats(row, counts["like_count"], counts["view_count"])
        if counts is not None:
            await trend(self.rt, row, 2.0 if on else -2.0)
        return await self.get(user, video_id)

    async def report(self, user: CurrentUser, video_id: int, reason: str) -> schemas.ReportView:
        await self._row(user, video_id, as_staff=False)
        row = await write_queries.insert_video_report(new_id(), user.id, video_id, reason.strip())
        assert row is not None
        return schemas.ReportView(
            id=str(row["id"]),
            target_type="video",
            target_id=str(video_id),
            reason=row["reason"],
            status=row["status"],
            created_at=row["created_at"],
        )

    async def decide(self, user: CurrentUser, video_id: int, approve: bool, reason: str = "") -> schemas.Video:
        """A moderator approves or rejects a video waiting in the queue."""
        if not has_role(user, "moderator"):
            raise Forbidden("moderators only")
        row = await self._row(user, video_id)
        if row["moderation"] != "pending":
            raise Conflict(f"the video is already {row['moderation']}")
        async with db.transaction():
            await write_queries.set_moderation(video_id, "approved" if approve else "rejected")
            action = "video.approved" if approve else "video.rejected"
            await audit.record(action, user_id=row["owner"], actor_id=user.id, video_id=str(video_id), reason=reason)
            await recheck.request(videos=[video_id])
        self.rt.forget(video_id)
        if approve:
            from server.video.publishing import sync_post

            await sync_post(self.rt, video_id)
        return await self.get(user, video_id)

    async def set_removed(self, user: CurrentUser, video_id: int, removed: bool, reason: str = "") -> schemas.Video:
        """Staff hide a video from everyone but its owner and staff, or bring it back; the files stay."""
        if not has_role(user, "moderator"):
            raise Forbidden("moderators only")
        row = await self._row(user, video_id)
        if removed == (row["moderation"] == "rejected"):
            raise Conflict("the video is already removed" if removed else "the video is not removed")
        async with db.transaction():
            await write_queries.set_moderation(video_id, "rejected" if removed else "approved")
            action = "video.hidden" if removed else "video.restored"
            await audit.record(action, user_id=row["owner"], actor_id=user.id, video_id=str(video_id), reason=reason)
            await recheck.request(videos=[video_id])
        self.rt.forget(video_id)
        from server.video.publishing import sync_post

        await sync_post(self.rt, video_id)  # its feed post goes (post.deleted) or comes back
        return await self.get(user, video_id)


async def emit_stats(row: Any, like_count: int, view_count: int) -> None:
    """``video.stats`` on the video's channel and ``post.stats`` on its feed post, in the caller's transaction."""
    data = {"id": str(row["id"]), "like_count": like_count, "view_count": view_count}
    events: list[tuple[str, str, Any]] = [(kinds.video(row["id"]), "video.stats", data)]
    if row["post"] is not None:
        events.append((kinds.post(row["post"]), "video.stats", data))
    await outbox.emit_many(events)


async def trend(rt: VideoRuntime, row: Any, amount: float) -> None:
    """Feed trending: public videos of public accounts gain time-decayed weight (like posts' trending)."""
    import time

    if rt.social is None or row["visibility"] != "public" or row["a_is_private"]:
        return
    await rt.social.store.trend_add("videos", str(row["id"]), amount, time.time())
