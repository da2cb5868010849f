"""Posts: create, read, edit with history, soft delete, likes, reposts, bookmarks."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from models.ids import new_id
from server import cursor, db, events
from server.accounts import audit
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.guards import has_role
from server.social import fanout, schemas, text
from server.social.queries import posts as post_queries
from server.social.queries import visibility as visibility_queries
from server.social.queries.visibility import who_can_see
from server.social.runtime import SocialRuntime
from server.social.services.visibility import visible_posts

WEIGHTS = {"like": 1.0, "comment": 2.0, "repost": 3.0}
MAX_MENTIONS = 10


class PostService:
    def __init__(self, runtime: SocialRuntime) -> None:
        self.rt = runtime

    async def get(self, viewer: int | None, post_id: int) -> schemas.Post:
        found = await visible_posts(viewer or 0, [post_id], signer=self.rt.media)
        if post_id not in found:
            raise NotFound("no such post")
        return found[post_id]

    async def _visible_row(self, viewer: int, post_id: int, *, staff: bool = False) -> Any:
        """The post's row if ``viewer`` may see it (moderators see every live post), else 404."""
        row = await post_queries.post_row(viewer, post_id, staff=staff)
        if row is None:
            raise NotFound("no such post")
        return row

    async def _mention_ids(self, author: int, body: str) -> list[int]:
        names = text.mentions(body)
        if not names:
            return []
        if len(set(names)) > MAX_MENTIONS:
            # Each mention is a notification (and a push): a cap keeps one post from paging a crowd.
            raise ValidationFailed(f"at most {MAX_MENTIONS} different @mentions per text")
        return await post_queries.mentionable_ids(names, author)

    async def create(
        self,
        viewer: int,
        body: str,
        visibility: str,
        media_ids: list[int] | None = None,
        *,
        price: schemas.Price | None = None,
    ) -> schemas.Post:
        tags, mentioned = text.hashtags(body), await self._mention_ids(viewer, body)
        return await self._publish(viewer, body, visibility, tags, mentioned, None, media_ids or [], price=price)

    async def create_attached(
        self, viewer: int, body: str, visibility: str, attach: Callable[[int], Awaitable[None]]
    ) -> schemas.Post:
        """A post whose attachment another domain links with ``attach(post_id)`` in the post's transaction."""
        tags, mentioned = text.hashtags(body), await self._mention_ids(viewer, body)
        return await self._publish(viewer, body, visibility, tags, mentioned, None, [], attach=attach)

    async def _publish(
        self,
        viewer: int,
        body: str,
        visibility: str,
        tags: list[str],
        mentioned: list[int],
        original: Any,
        media_ids: list[int] | None = None,
        attach: Callable[[int], Awaitable[None]] | None = None,
        price: schemas.Price | None = None,
    ) -> schemas.Post:
        post_id = new_id()
        async with db.transaction():
            author = await post_queries.add_author_post(viewer)
            if author is None:
                raise NotFound("no such user")
            await post_queries.insert_post(
                post_id,
                viewer,
                body,
                visibility,
                tags,
                mentioned,
                original["id"] if original else None,
                price.amount if price else None,
                price.currency if price else None,
            )
            if original is not None:
                await post_queries.add_repost_count(original["id"], 1)
            if media_ids:
                # Only the caller's own, not yet attached uploads; anything else fails the whole post.
                if await post_queries.attach_media(post_id, list(set(media_ids)), viewer) != len(set(media_ids)):
                    raise ValidationFailed("media_ids must be your own uploads, not attached to another post")
            if attach is not None:
                await attach(post_id)
            post = (await visible_posts(viewer, [post_id], signer=self.rt.media))[post_id]
            aud = await fanout.audience(self.rt, author, visibility, mentioned)
            shared = fanout.neutral(post)
            each = fanout.per_recipient(shared, self.rt.media)
            await fanout.emit_post_event("post.created", aud, post_id, tags, shared, for_user=each, actor=viewer)
            await self.rt.bus.dispatch(
                events.PostPublished(
                    actor_id=viewer,
                    post_id=post_id,
                    visibility=visibility,
                    # Only who can open the post hears of it (a followers-only mention of a stranger: nobody).
                    mentioned_ids=tuple(await who_can_see(post_id, mentioned)),
                    author_private=bool(author["is_private"]),
                    repost_of_id=original["id"] if original else None,
                    repost_of_author_id=original["author"] if original else None,
                )
            )
        await self.rt.store.push(aud.push, post_id)
        self.rt.pulled.forget(viewer)  # if the author is pulled at read time, this process shows it at once
        now = time.time()
        for tag in tags if aud.public else []:  # only public posts of public accounts trend
            await self.rt.store.trend_add("tags", tag, 1.0, now)
        if original is not None:
            await self._trend(original, "repost")
        return post

    async def _trend(self, row: Any, kind: str, sign: float = 1.0) -> None:
        if row["visibility"] != "public" or row["author_private"]:
            return
        now, amount = time.time(), WEIGHTS[kind] * sign
        await self.rt.store.trend_add("posts", str(row["id"]), amount, now)
        for tag in row["hashtags"]:
            await self.rt.store.trend_add("tags", tag, amount, now)

    async def edit(self, viewer: int, post_id: int, body: str) -> schemas.Post:
        row = await self._visible_row(viewer, post_id)
        if row["author"] != viewer:
            raise Forbidden("only the author may edit a post")
        if row["repost_of"] is not None:
            raise Conflict("a repost has no text to edit")
        mentioned = await self._mention_ids(viewer, body)
        async with db.transaction():
            await post_queries.insert_post_edit(new_id(), post_id, row["text"])
            await post_queries.update_post_text(post_id, body, text.hashtags(body), mentioned)
        return await self.get(viewer, post_id)

    async def history(
        self, viewer: int | None, post_id: int, limit: int = 20, cur: str | None = None
    ) -> schemas.PostEditPage:
        """Earlier versions, oldest first, a page at a time."""
        await self._visible_row(viewer or 0, post_id)
        after = cursor.decode(self.rt.secret_key, f"edits:{post_id}", cur)
        rows = await post_queries.post_edits_page(post_id, int(after[0]) if after else 0, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = cursor.encode(self.rt.secret_key, f"edits:{post_id}", [str(rows[-1]["id"])]) if more else None
        return schemas.PostEditPage(
            items=[schemas.PostEditView(text=r["text"], created_at=r["created_at"]) for r in rows], next_cursor=nxt
        )

    async def delete(self, viewer: int, role: str, post_id: int, *, reason: str | None = None) -> None:
        """Soft delete by the author, or removal by a moderator/admin (audited)."""
        row = await self._visible_row(viewer, post_id, staff=has_role(role, "moderator"))
        staff = row["author"] != viewer
        if staff and not has_role(role, "moderator"):
            raise Forbidden("only the author or a moderator may delete this post")
        async with db.transaction():
            if not await post_queries.soft_delete_post(post_id, viewer if staff else None):
                raise NotFound("no such post")
            author = await post_queries.remove_author_post(row["author"])
            if row["repost_of"] is not None:
                await post_queries.add_repost_count(row["repost_of"], -1)
            aud = await fanout.audience(self.rt, author, row["visibility"], list(row["mentions"]))
            await fanout.emit_post_event("post.deleted", aud, post_id, list(row["hashtags"]), {"id": str(post_id)})
            if staff:
                await audit.record(
                    "post.removed", user_id=row["author"], actor_id=viewer, post_id=str(post_id), reason=reason or ""
                )

    async def like(self, viewer: int, post_id: int, on: bool) -> schemas.Post:
        row = await self._visible_row(viewer, post_id)
        async with db.transaction():
            if on:
                changed = await post_queries.insert_post_like(new_id(), post_id, viewer)
            else:
                changed = await post_queries.delete_post_like(post_id, viewer)
            if changed:
                await post_queries.add_like_count(post_id, 1 if on else -1)
                if row["author"] != viewer:
                    kind = events.Liked if on else events.Unliked
                    await self.rt.bus.dispatch(kind(actor_id=viewer, post_id=post_id, post_author_id=row["author"]))
        if changed:
            await self.rt.store.mark_dirty(post_id)
            await self._trend(row, "like", 1.0 if on else -1.0)
        return await self.get(viewer, post_id)

    async def repost(self, viewer: int, post_id: int) -> tuple[schemas.Post, bool]:
        """Repost ``post_id`` (a repost of a repost reposts the original); ``(repost, created)``."""
        row = await self._visible_row(viewer, post_id)
        if row["repost_of"] is not None:
            row = await self._visible_row(viewer, row["repost_of"])
        if row["visibility"] != "public" or row["author_private"]:
            raise Forbidden("only public posts of public accounts can be reposted")
        existing = await post_queries.live_repost_id(viewer, row["id"])
        if existing is not None:
            return await self.get(viewer, existing), False
        try:
            return await self._publish(viewer, "", "public", [], [], row), True
        except asyncpg.UniqueViolationError:  # the same repost, concurrently: one wins (posts_one_repost)
            existing = await post_queries.live_repost_id(viewer, row["id"])
            if existing is None:  # the winner was deleted meanwhile
                raise NotFound("no such post") from None
            return await self.get(viewer, existing), False

    async def unrepost(self, viewer: int, post_id: int) -> None:
        existing = await post_queries.live_repost_id(viewer, post_id)
        if existing is not None:
            await self.delete(viewer, "user", existing)

    async def bookmark(self, viewer: int, post_id: int, on: bool) -> schemas.Post:
        await self._visible_row(viewer, post_id)
        if on:
            await post_queries.insert_bookmark(new_id(), post_id, viewer)
        else:
            await post_queries.delete_bookmark(post_id, viewer)
        return await self.get(viewer, post_id)


async def can_view_post(viewer_id: int, post_id: int) -> bool:
    """Whether ``viewer_id`` may see ``post_id`` (visibility and blocks): the ``post:{id}`` channel policy."""
    return await visibility_queries.can_view_post(viewer_id, post_id)
