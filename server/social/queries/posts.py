"""A post's writes and the rows they need: counters, likes, reposts, bookmarks, edits.

Raw for the same reasons as the graph's: replica-routed reads, ``ON CONFLICT`` with row counts, set-based
counters (``greatest(x - 1, 0)``), and the visibility rule spliced in whole. Values are bind parameters.
"""

from __future__ import annotations

from typing import Any

from server import sql
from server.social.queries.visibility import VISIBLE, blocked_either_way

_POST_ROW = (
    "SELECT p.id, p.author, p.visibility, p.hashtags, p.mentions, p.repost_of, p.text, a.is_private AS author_private "
    "FROM posts p JOIN users a ON a.id = p.author WHERE p.id = $2 AND "
)


async def post_row(viewer: int, post_id: int, *, staff: bool = False) -> Any:
    """The post's own row (with ``author_private``) if ``viewer`` may see it, else ``None``.

    ``staff``: any live post, whoever reads it (moderators).
    """
    where = "p.deleted_at IS NULL AND $1::bigint > 0" if staff else VISIBLE
    return await sql.fetchrow(_POST_ROW + where, viewer, post_id)


async def mentionable_ids(names: list[str], author: int) -> list[int]:
    """The ids of the users called ``names``, other than ``author`` and anyone in a block relation with them."""
    rows = await sql.fetch(
        "SELECT id FROM users u WHERE username = ANY($1) AND id <> $2 AND NOT " + blocked_either_way("u.id", "$2"),  # noqa: S608 — constant block predicate; values are $n
        names,
        author,
    )
    return [r["id"] for r in rows]


async def add_author_post(author: int) -> Any:
    """Count one more post for ``author``; their ``id, followers_count, is_private`` (``None``: no such user)."""
    return await sql.fetchrow(
        "UPDATE users SET posts_count = posts_count + 1 WHERE id = $1 RETURNING id, followers_count, is_private",
        author,
    )


async def remove_author_post(author: int) -> Any:
    """Count one post less for ``author`` (never below 0); their ``id, followers_count, is_private``."""
    return await sql.fetchrow(
        "UPDATE users SET posts_count = greatest(posts_count - 1, 0) WHERE id = $1 "
        "RETURNING id, followers_count, is_private",
        author,
    )


async def insert_post(
    post_id: int,
    author: int,
    body: str,
    visibility: str,
    tags: list[str],
    mentions: list[int],
    repost_of: int | None,
    price_amount: int | None,
    price_currency: str | None,
) -> None:
    await sql.execute(
        "INSERT INTO posts (id, author, text, visibility, hashtags, mentions, repost_of, like_count, "
        "comment_count, repost_count, created_at, price_amount, price_currency) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, now(), $8, $9)",
        post_id,
        author,
        body,
        visibility,
        tags,
        mentions,
        repost_of,
        price_amount,
        price_currency,
    )


async def add_repost_count(post_id: int, delta: int) -> None:
    """Move ``post_id``'s repost counter by ``delta`` (never below 0)."""
    await sql.execute("UPDATE posts SET repost_count = greatest(repost_count + $2, 0) WHERE id = $1", post_id, delta)


async def add_like_count(post_id: int, delta: int) -> None:
    await sql.execute("UPDATE posts SET like_count = like_count + $2 WHERE id = $1", post_id, delta)


async def attach_media(post_id: int, media_ids: list[int], owner: int) -> int:
    """Attach ``owner``'s not yet attached uploads among ``media_ids`` to the post; how many were."""
    status = await sql.execute(
        "UPDATE post_media SET post = $1 WHERE id = ANY($2) AND owner = $3 AND post IS NULL", post_id, media_ids, owner
    )
    return sql.changed(status)


async def insert_post_edit(row_id: int, post_id: int, old_text: str) -> None:
    """Keep ``old_text`` as an earlier version of the post."""
    await sql.execute(
        "INSERT INTO post_edits (id, post, text, created_at) VALUES ($1, $2, $3, now())", row_id, post_id, old_text
    )


async def update_post_text(post_id: int, body: str, tags: list[str], mentions: list[int]) -> None:
    await sql.execute(
        "UPDATE posts SET text = $2, hashtags = $3, mentions = $4, edited_at = now() WHERE id = $1",
        post_id,
        body,
        tags,
        mentions,
    )


async def post_edits_page(post_id: int, after: int, n: int) -> list[Any]:
    """Earlier versions of ``post_id`` after edit id ``after``, oldest first."""
    return await sql.fetch(
        "SELECT id, text, created_at FROM post_edits WHERE post = $1 AND id > $2 ORDER BY id LIMIT $3",
        post_id,
        after,
        n,
    )


async def soft_delete_post(post_id: int, removed_by: int | None) -> bool:
    """Mark the post deleted (``removed_by``: the moderator, if one did); ``False`` when it already was."""
    status = await sql.execute(
        "UPDATE posts SET deleted_at = now(), removed_by = $2 WHERE id = $1 AND deleted_at IS NULL",
        post_id,
        removed_by,
    )
    return bool(sql.changed(status))


async def insert_post_like(row_id: int, post_id: int, user_id: int) -> bool:
    """Record the like; ``False`` when it existed already."""
    status = await sql.execute(
        'INSERT INTO post_likes (id, post, "user", created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING',
        row_id,
        post_id,
        user_id,
    )
    return bool(sql.changed(status))


async def delete_post_like(post_id: int, user_id: int) -> bool:
    """Remove the like; ``False`` when there was none."""
    status = await sql.execute('DELETE FROM post_likes WHERE post = $1 AND "user" = $2', post_id, user_id)
    return bool(sql.changed(status))


async def live_repost_id(author: int, original: int) -> int | None:
    """The id of ``author``'s undeleted repost of ``original``, if any."""
    return await sql.fetchval(  # type: ignore[no-any-return]
        "SELECT id FROM posts WHERE author = $1 AND repost_of = $2 AND deleted_at IS NULL", author, original
    )


async def insert_bookmark(row_id: int, post_id: int, user_id: int) -> None:
    await sql.execute(
        'INSERT INTO bookmarks (id, post, "user", created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING',
        row_id,
        post_id,
        user_id,
    )


async def delete_bookmark(post_id: int, user_id: int) -> None:
    await sql.execute('DELETE FROM bookmarks WHERE post = $1 AND "user" = $2', post_id, user_id)


async def post_stats(ids: list[int]) -> list[Any]:
    """``id``, ``like_count`` and ``comment_count`` of the posts ``ids`` that are not deleted."""
    return await sql.fetch(
        "SELECT id, like_count, comment_count FROM posts WHERE id = ANY($1) AND deleted_at IS NULL", ids
    )
