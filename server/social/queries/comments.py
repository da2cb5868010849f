"""Comments: pages as a viewer sees them, and their writes and counters.

Raw because every read splices the block rule whole and reads the viewer's like flag in the same statement;
writes use ``ON CONFLICT`` row counts and set-based counters. Values are bind parameters.
"""

from __future__ import annotations

from typing import Any

from server import sql
from server.social.queries.columns import USER_COLS
from server.social.queries.visibility import blocked_either_way

# $1 is the viewer: a comment row says whether they liked it; comments of people in a block relation with
# them are left out.
_COMMENT_SELECT = (
    "SELECT c.id, c.post, c.parent, c.text, c.like_count, c.reply_count, c.created_at, "  # noqa: S608 — constant column list
    + ", ".join(f"u.{col} AS u_{col}" for col in USER_COLS.split(", "))
    + ', EXISTS (SELECT 1 FROM comment_likes l WHERE l.comment = c.id AND l."user" = $1) AS liked_by_me '
    "FROM comments c JOIN users u ON u.id = c.author "
)
_COMMENT_NOT_BLOCKED = "NOT " + blocked_either_way("$1", "c.author")
# Keyset by comment id, ascending (oldest first) or descending (newest first).
_COMMENT_PAGE = {
    order: _COMMENT_SELECT + f"WHERE c.post = $2 AND c.deleted_at IS NULL AND {_COMMENT_NOT_BLOCKED} "
    f"AND ($3::bigint IS NULL OR c.parent = $3) AND ($4::bigint IS NULL OR c.id {op} $4) "
    f"ORDER BY c.id {direction} LIMIT $5"
    for order, op, direction in (("oldest", ">", "ASC"), ("newest", "<", "DESC"))
}


async def comments_page(viewer: int, post_id: int, order: str, parent: int | None, after: int | None, n: int) -> Any:
    """Live comments of ``post_id`` (under ``parent``, if given) past comment id ``after``, in ``order``
    (``oldest`` or ``newest``): ``_COMMENT_SELECT`` rows."""
    return await sql.fetch(_COMMENT_PAGE[order], viewer, post_id, parent, after, n)


async def comment_view_row(viewer: int, comment_id: int) -> Any:
    """The ``_COMMENT_SELECT`` row of ``comment_id`` as ``viewer`` sees it (deleted or not), or ``None``."""
    return await sql.fetchrow(_COMMENT_SELECT + "WHERE c.id = $2", viewer, comment_id)


async def comment_row(viewer: int, comment_id: int) -> Any:
    """``id, post, author, parent`` of the live comment, unless its author is in a block relation with ``viewer``."""
    return await sql.fetchrow(
        "SELECT c.id, c.post, c.author, c.parent FROM comments c WHERE c.id = $2 AND c.deleted_at IS NULL "  # noqa: S608 — constant block predicate; values are $n
        f"AND {_COMMENT_NOT_BLOCKED}",
        viewer,
        comment_id,
    )


async def add_reply(parent: int, post_id: int) -> int | None:
    """Count one more reply under live comment ``parent`` of ``post_id``; its author (``None``: no such comment)."""
    return await sql.fetchval(  # type: ignore[no-any-return]
        "UPDATE comments SET reply_count = reply_count + 1 WHERE id = $1 AND post = $2 AND deleted_at IS NULL "
        "RETURNING author",
        parent,
        post_id,
    )


async def remove_reply(parent: int) -> None:
    """Count one reply less under ``parent`` (never below 0)."""
    await sql.execute("UPDATE comments SET reply_count = greatest(reply_count - 1, 0) WHERE id = $1", parent)


async def insert_comment(
    comment_id: int, post_id: int, author: int, parent: int | None, body: str, mentions: list[int]
) -> None:
    await sql.execute(
        "INSERT INTO comments (id, post, author, parent, text, mentions, like_count, reply_count, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, 0, 0, now())",
        comment_id,
        post_id,
        author,
        parent,
        body,
        mentions,
    )


async def add_comment_count(post_id: int, delta: int) -> None:
    """Move ``post_id``'s comment counter by ``delta`` (never below 0)."""
    await sql.execute("UPDATE posts SET comment_count = greatest(comment_count + $2, 0) WHERE id = $1", post_id, delta)


async def soft_delete_comment(comment_id: int) -> bool:
    """Mark the comment deleted; ``False`` when it already was."""
    status = await sql.execute(
        "UPDATE comments SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL", comment_id
    )
    return bool(sql.changed(status))


async def insert_comment_like(row_id: int, comment_id: int, user_id: int) -> bool:
    """Record the like; ``False`` when it existed already."""
    status = await sql.execute(
        'INSERT INTO comment_likes (id, comment, "user", created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING',
        row_id,
        comment_id,
        user_id,
    )
    return bool(sql.changed(status))


async def delete_comment_like(comment_id: int, user_id: int) -> bool:
    """Remove the like; ``False`` when there was none."""
    status = await sql.execute('DELETE FROM comment_likes WHERE comment = $1 AND "user" = $2', comment_id, user_id)
    return bool(sql.changed(status))


async def add_comment_like_count(comment_id: int, delta: int) -> None:
    await sql.execute("UPDATE comments SET like_count = like_count + $2 WHERE id = $1", comment_id, delta)
