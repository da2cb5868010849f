"""Comments: threaded replies, likes, deletion by the author, the post's author or a moderator."""

from __future__ import annotations

from typing import Any

from models.ids import new_id
from server import cursor, db, events, outbox
from server.accounts import audit
from server.errors import Forbidden, NotFound, ValidationFailed
from server.guards import has_role
from server.realtime import kinds
from server.social import schemas, text
from server.social.queries import comments as comment_queries
from server.social.queries.visibility import who_can_see
from server.social.runtime import SocialRuntime
from server.social.services.posts import PostService
from server.social.services.visibility import user_summary


def _view(r: Any) -> schemas.Comment:
    return schemas.Comment(
        id=str(r["id"]),
        post_id=str(r["post"]),
        author=user_summary(r, "u_"),
        text=r["text"],
        parent_id=str(r["parent"]) if r["parent"] is not None else None,
        like_count=r["like_count"],
        reply_count=r["reply_count"],
        liked_by_me=r["liked_by_me"],
        created_at=r["created_at"],
    )


class CommentService:
    def __init__(self, runtime: SocialRuntime) -> None:
        self.rt = runtime
        self.posts = PostService(runtime)

    async def list(
        self, viewer: int | None, post_id: int, order: str, parent_id: int | None, limit: int, cur: str | None
    ) -> schemas.CommentPage:
        v = viewer or 0
        await self.posts._visible_row(v, post_id)
        after = cursor.decode(self.rt.secret_key, f"comments:{order}", cur)
        rows = await comment_queries.comments_page(
            v,
            post_id,
            "oldest" if order == "oldest" else "newest",
            parent_id,
            int(after[0]) if after else None,
            limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = cursor.encode(self.rt.secret_key, f"comments:{order}", [str(rows[-1]["id"])]) if more and rows else None
        return schemas.CommentPage(items=[_view(r) for r in rows], next_cursor=nxt)

    async def add(self, viewer: int, post_id: int, body: str, parent_id: int | None) -> schemas.Comment:
        post = await self.posts._visible_row(viewer, post_id)
        mentioned = await self.posts._mention_ids(viewer, body)
        comment_id = new_id()
        async with db.transaction():
            parent_author = None
            if parent_id is not None:
                parent_author = await comment_queries.add_reply(parent_id, post_id)
                if parent_author is None:
                    raise ValidationFailed("parent_id is not a comment of this post")
            await comment_queries.insert_comment(comment_id, post_id, viewer, parent_id, body, mentioned)
            await comment_queries.add_comment_count(post_id, 1)
            row = await comment_queries.comment_view_row(viewer, comment_id)
            view = _view(row)
            data = schemas.Comment(**{**_asdict(view), "liked_by_me": False})
            await outbox.emit(kinds.post(post_id), "comment.created", data, actor=viewer)
            await self.rt.bus.dispatch(
                events.Commented(
                    actor_id=viewer,
                    post_id=post_id,
                    post_author_id=post["author"],
                    comment_id=comment_id,
                    parent_comment_id=parent_id,
                    parent_author_id=parent_author,
                    mentioned_ids=tuple(await who_can_see(post_id, mentioned)),
                )
            )
        await self.rt.store.mark_dirty(post_id)
        await self.posts._trend(post, "comment")
        return view

    async def _row(self, viewer: int, comment_id: int) -> Any:
        row = await comment_queries.comment_row(viewer, comment_id)
        if row is None:
            raise NotFound("no such comment")
        post = await self.posts._visible_row(viewer, row["post"])
        return row, post

    async def delete(self, viewer: int, role: str, comment_id: int) -> None:
        row, post = await self._row(viewer, comment_id)
        if viewer not in (row["author"], post["author"]) and not has_role(role, "moderator"):
            raise Forbidden("only the comment's author, the post's author or a moderator may delete it")
        async with db.transaction():
            if not await comment_queries.soft_delete_comment(comment_id):
                raise NotFound("no such comment")
            await comment_queries.add_comment_count(row["post"], -1)
            if row["parent"] is not None:
                await comment_queries.remove_reply(row["parent"])
            if viewer not in (row["author"], post["author"]):
                await audit.record(
                    "comment.removed", user_id=row["author"], actor_id=viewer, comment_id=str(comment_id)
                )
        await self.rt.store.mark_dirty(row["post"])

    async def like(self, viewer: int, comment_id: int, on: bool) -> schemas.Comment:
        await self._row(viewer, comment_id)
        async with db.transaction():
            if on:
                changed = await comment_queries.insert_comment_like(new_id(), comment_id, viewer)
            else:
                changed = await comment_queries.delete_comment_like(comment_id, viewer)
            if changed:
                await comment_queries.add_comment_like_count(comment_id, 1 if on else -1)
        row = await comment_queries.comment_view_row(viewer, comment_id)
        return _view(row)


def _asdict(view: schemas.Comment) -> dict[str, Any]:
    import msgspec

    return msgspec.structs.asdict(view)


__all__ = ["CommentService", "text"]
