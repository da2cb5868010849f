"""Feeds' candidate post ids, newest first, below a keyset bound.

Raw because these are planner-sensitive: one (author, id DESC) index range per author through ``LATERAL``,
merged, and per-row scalar lookups where a join would make the planner hash every user. The feed service
hydrates the ids through ``post_views.visible_post_rows``; these only pick ids. Values are bind parameters.
"""

from __future__ import annotations

from server import sql
from server.params import MAX_ID
from server.social.queries.visibility import VISIBLE

# Public and hashtag feeds carry what their live channels carry: public posts of public accounts.
# (A per-row scalar lookup: as NOT EXISTS the planner hashes every private user first, ~40 ms at 120k users.)
_PUBLIC_AUTHOR = "(SELECT NOT a.is_private FROM users a WHERE a.id = posts.author)"

# Newest posts of one author below an id: one (author, id DESC) index range per author, merged by the
# caller. (As `author IN (...) ORDER BY id DESC` the planner walks every post backwards: ~300 ms at 1M.)
_NEWEST = (
    "SELECT id FROM posts WHERE author = {author} AND deleted_at IS NULL AND id < {below} "
    "ORDER BY id DESC LIMIT {limit}"
)
_NEWEST_BELOW_2 = _NEWEST.format(author="au.author", below="$2", limit="$3")


async def public_post_ids(below: int, n: int) -> list[int]:
    rows = await sql.fetch(
        "SELECT id FROM posts WHERE visibility = 'public' AND deleted_at IS NULL "  # noqa: S608 — constant predicate; values are $n
        f"AND id < $1 AND {_PUBLIC_AUTHOR} ORDER BY id DESC LIMIT $2",
        below,
        n,
    )
    return [r["id"] for r in rows]


async def hashtag_post_ids(tag: str, below: int, n: int) -> list[int]:
    rows = await sql.fetch(
        "SELECT id FROM posts WHERE hashtags @> ARRAY[$1]::varchar[] AND visibility = 'public' "  # noqa: S608 — constant predicate; values are $n
        f"AND deleted_at IS NULL AND id < $2 AND {_PUBLIC_AUTHOR} ORDER BY id DESC LIMIT $3",
        tag,
        below,
        n,
    )
    return [r["id"] for r in rows]


async def author_post_ids(author: int, below: int, n: int) -> list[int]:
    rows = await sql.fetch(
        "SELECT id FROM posts WHERE author = $1 AND deleted_at IS NULL AND id < $2 ORDER BY id DESC LIMIT $3",
        author,
        below,
        n,
    )
    return [r["id"] for r in rows]


async def bookmarked_post_ids(user: int, below: int, n: int) -> list[int]:
    # Keyset on the post id keeps one cursor shape for every post list.
    rows = await sql.fetch(
        'SELECT post FROM bookmarks WHERE "user" = $1 AND post < $2 ORDER BY post DESC LIMIT $3', user, below, n
    )
    return [r["post"] for r in rows]


async def pushed_post_ids(viewer: int, celebrity_threshold: int, cap: int, above: int) -> list[int]:
    """Home, write side: the newest visible posts (above ``above``) of the viewer and their pushed followees.

    Pushed followees are those under ``celebrity_threshold`` followers (a celebrity's posts are pulled at
    read time instead). One LATERAL index range per author, merged, capped at the timeline's size.
    """
    newest = _NEWEST.format(author="au.author", below=MAX_ID, limit="$3")
    rows = await sql.fetch(
        f"""SELECT p.id FROM (
                SELECT $1::bigint AS author UNION
                SELECT f.followee FROM follows f JOIN users c ON c.id = f.followee
                WHERE f.follower = $1 AND c.followers_count < $2
            ) au CROSS JOIN LATERAL ({newest}) x
            JOIN posts p ON p.id = x.id JOIN users a ON a.id = p.author
            WHERE {VISIBLE} AND p.id > $4
            ORDER BY p.id DESC LIMIT $3""",  # noqa: S608 — constant predicates; values are $n
        viewer,
        celebrity_threshold,
        cap,
        above,
    )
    return [r["id"] for r in rows]


async def celebrity_followees(viewer: int, celebrity_threshold: int) -> list[int]:
    """The authors ``viewer`` follows with at least ``celebrity_threshold`` followers (pulled at read time)."""
    rows = await sql.fetch(
        "SELECT f.followee FROM follows f JOIN users c ON c.id = f.followee "
        "WHERE f.follower = $1 AND c.followers_count >= $2",
        viewer,
        celebrity_threshold,
    )
    return [r["followee"] for r in rows]


async def followed_post_ids(viewer: int, below: int, n: int) -> list[int]:
    """Home, below the cached timeline's window: the newest posts of the viewer and everyone they follow."""
    rows = await sql.fetch(
        "SELECT x.id FROM (SELECT $1::bigint AS author UNION SELECT followee FROM follows "  # noqa: S608 — constant LATERAL template; values are $n
        f"WHERE follower = $1) au CROSS JOIN LATERAL ({_NEWEST_BELOW_2}) x ORDER BY x.id DESC LIMIT $3",
        viewer,
        below,
        n,
    )
    return [r["id"] for r in rows]


async def authors_post_ids(authors: list[int], below: int, n: int) -> list[int]:
    """Home, read side: the newest posts of ``authors`` (the viewer's followed celebrities)."""
    rows = await sql.fetch(
        "SELECT x.id FROM unnest($1::bigint[]) AS au(author) CROSS JOIN LATERAL "  # noqa: S608 — constant LATERAL template; values are $n
        f"({_NEWEST_BELOW_2}) x ORDER BY x.id DESC LIMIT $3",
        authors,
        below,
        n,
    )
    return [r["id"] for r in rows]
