"""Comments: threaded replies, likes, deletion by the author, the post's author or a moderator."""

from __future__ import annotations

from typing import Any

from models.ids import new_id
from server import cursor, db, events, outbox, sql
from server.accounts import audit
from server.errors import Forbidden, NotFound, ValidationFailed
from server.guards import has_role
from server.realtime import kinds
from server.social import schemas, text
from server.social.queries import USER_COLS, blocked_either_way, who_can_see
from server.social.runtime import SocialRuntime
from server.social.services.posts import PostService
from server.social.services.visibility import user_summary

_SELECT = (
    "SELECT c.id, c.post, c.parent, c.text, c.like_count, c.reply_count, c.created_at, "  # noqa: S608 — constant column list
    + ", ".join(f"u.{col} AS u_{col}" for col in USER_COLS.split(", "))
    + ', EXISTS (SELECT 1 FROM comment_likes l WHERE l.comment = c.id AND l."user" = $1) AS liked_by_me '
    "FROM comments c JOIN users u ON u.id = c.author "
)
_NOT_BLOCKED = "NOT " + blocked_either_way("$1", "c.author")


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
        op, direction = (">", "ASC") if order == "oldest" else ("<", "DESC")
        rows = await sql.fetch(
            _SELECT + f"WHERE c.post = $2 AND c.deleted_at IS NULL AND {_NOT_BLOCKED} "
            f"AND ($3::bigint IS NULL OR c.parent = $3) AND ($4::bigint IS NULL OR c.id {op} $4) "
            f"ORDER BY c.id {direction} LIMIT $5",
            v,
            post_id,
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
                parent = await sql.fetchrow(
                    "UPDATE comments SET reply_count = reply_count + 1 WHERE id = $1 AND post = $2 "
                    "AND deleted_at IS NULL RETURNING author",
                    parent_id,
                    post_id,
                )
                if parent is None:
                    raise ValidationFailed("parent_id is not a comment of this post")
                parent_author = parent["author"]
            await sql.execute(
                "INSERT INTO comments (id, post, author, parent, text, mentions, like_count, reply_count, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, 0, 0, now())",
                comment_id,
                post_id,
                viewer,
                parent_id,
                body,
                mentioned,
            )
            await sql.execute("UPDATE posts SET comment_count = comment_count + 1 WHERE id = $1", post_id)
            row = await sql.fetchrow(_SELECT + "WHERE c.id = $2", viewer, comment_id)
            view = _view(row)
            data = schemas.Comment(**{**_asdict(view), "liked_by_me": False})
            await outbox.emit(kinds.post(post_id), "comment.created", data, actor=viewer)
            await events.dispatch(
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
        row = await sql.fetchrow(
            "SELECT c.id, c.post, c.author, c.parent FROM comments c WHERE c.id = $2 AND c.deleted_at IS NULL "  # noqa: S608 — constant block predicate; values are $n
            f"AND {_NOT_BLOCKED}",
            viewer,
            comment_id,
        )
        if row is None:
            raise NotFound("no such comment")
        post = await self.posts._visible_row(viewer, row["post"])
        return row, post

    async def delete(self, viewer: int, role: str, comment_id: int) -> None:
        row, post = await self._row(viewer, comment_id)
        if viewer not in (row["author"], post["author"]) and not has_role(role, "moderator"):
            raise Forbidden("only the comment's author, the post's author or a moderator may delete it")
        async with db.transaction():
            status = await sql.execute(
                "UPDATE comments SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL", comment_id
            )
            if not sql.changed(status):
                raise NotFound("no such comment")
            await sql.execute(
                "UPDATE posts SET comment_count = greatest(comment_count - 1, 0) WHERE id = $1", row["post"]
            )
            if row["parent"] is not None:
                await sql.execute(
                    "UPDATE comments SET reply_count = greatest(reply_count - 1, 0) WHERE id = $1", row["parent"]
                )
            if viewer not in (row["author"], post["author"]):
                await audit.record(
                    "comment.removed", user_id=row["author"], actor_id=viewer, comment_id=str(comment_id)
                )
        await self.rt.store.mark_dirty(row["post"])

    async def like(self, viewer: int, comment_id: int, on: bool) -> schemas.Comment:
        await self._row(viewer, comment_id)
        async with db.transaction():
            if on:
                status = await sql.execute(
                    'INSERT INTO comment_likes (id, comment, "user", created_at) VALUES ($1, $2, $3, now()) '
                    "ON CONFLICT DO NOTHING",
                    new_id(),
                    comment_id,
                    viewer,
                )
            else:
                status = await sql.execute(
                    'DELETE FROM comment_likes WHERE comment = $1 AND "user" = $2', comment_id, viewer
                )
            if sql.changed(status):
                await sql.execute(
                    "UPDATE comments SET like_count = like_count + $2 WHERE id = $1", comment_id, 1 if on else -1
                )
        row = await sql.fetchrow(_SELECT + "WHERE c.id = $2", viewer, comment_id)
        return _view(row)


def _asdict(view: schemas.Comment) -> dict[str, Any]:
    import msgspec

    return msgspec.structs.asdict(view)


__all__ = ["CommentService", "text"]
