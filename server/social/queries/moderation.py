"""Staff undo (the admin panel's forms).

Conditional updates whose ``RETURNING`` says whether there was anything to undo, and counters set-based.
Values are bind parameters.
"""

from __future__ import annotations

from typing import Any

from server import sql
from server.social.queries.comments import add_comment_count
from server.social.queries.posts import add_author_post


async def restore_removed_post(post_id: int) -> int | None:
    """Bring back a post a moderator removed and count it for its author again; the author (``None``: no such
    removed post)."""
    author = await sql.fetchval(
        "UPDATE posts SET deleted_at = NULL, removed_by = NULL WHERE id = $1 AND removed_by IS NOT NULL "
        "RETURNING author",
        post_id,
    )
    if author is not None:
        await add_author_post(author)
    return author  # type: ignore[no-any-return]


async def set_comment_removed(comment_id: int, removed: bool) -> Any:
    """Remove a visible comment (or restore a removed one) and move its post's counter; its ``author, post``
    (``None``: no comment in the other state)."""
    if removed:
        row = await sql.fetchrow(
            "UPDATE comments SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING author, post",
            comment_id,
        )
    else:
        row = await sql.fetchrow(
            "UPDATE comments SET deleted_at = NULL WHERE id = $1 AND deleted_at IS NOT NULL RETURNING author, post",
            comment_id,
        )
    if row is not None:
        await add_comment_count(row["post"], -1 if removed else 1)
    return row
