"""Social's raw SQL: the visibility rule every read applies, and the set-based reads built on it.

Raw because the rule is one SQL predicate spliced into many statements (feeds' LATERAL queries, the
fan-out's ``who_can_see``, payments' and live's reads): it must stay a single string the planner sees
whole, which the query builder cannot express. Values are always bind parameters ($n).
"""

from __future__ import annotations

from typing import Any

from server import sql
from server.params import MAX_ID
from server.payments.queries import bought, subscriber_access

USER_COLS = "id, username, display_name, avatar_url, followers_count, following_count, posts_count, is_private"


def blocked_either_way(a: str, b: str) -> str:
    """SQL: whether users ``a`` and ``b`` (SQL expressions: columns or ``$n``) block each other, either way.

    The one spelling of the block rule; every read that hides blocked people (posts, comments, mentions,
    follower lists, search, videos, live streams, notifications) splices it in.
    """
    return (
        f"EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker = {a} AND b.blocked = {b}) "  # noqa: S608 — a, b are SQL expressions from this module (columns, $n), never input
        f"OR (b.blocker = {b} AND b.blocked = {a}))"
    )


# $1 is the viewer id (0 for anonymous). ``p`` is the post, ``a`` its author.
VISIBLE = (
    "p.deleted_at IS NULL AND a.suspended_at IS NULL AND (p.author = $1 OR (NOT "  # noqa: S608 — the visibility rule, built from constants
    + blocked_either_way("$1", "p.author")
    + " AND ((p.visibility = 'private' AND $1 = ANY(p.mentions))"
    " OR (p.visibility = 'public' AND NOT a.is_private)"
    # Subscribers-only: an active (or in-grace) subscription to the author, kept by payments' webhooks.
    " OR (p.visibility = 'subscribers' AND " + subscriber_access("p.author") + ")"
    " OR (p.visibility IN ('public', 'followers') AND EXISTS "
    "(SELECT 1 FROM follows f WHERE f.follower = $1 AND f.followee = p.author)))))"
)
NOT_MUTED = "NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter = $1 AND m.muted = p.author)"


# A post read is two parts. The viewer's part: who may see it (VISIBLE), what the viewer did with it, and
# its author (whose counters move with every follow, so they are read fresh), plus the post row's version
# (``xmin``: every UPDATE of the row, a like's counter included, makes a new one) and its video's.
VIEW_SELECT = f"""
SELECT p.id, p.visibility, p.repost_of, p.xmin::text AS ver,
       (SELECT v.xmin::text FROM videos v WHERE v.post = p.id AND v.deleted_at IS NULL) AS video_ver,
       (p.price_amount IS NULL OR p.author = $1 OR {bought("post_id", "p.id")}) AS unlocked,
       {", ".join(f"a.{c} AS a_{c}" for c in USER_COLS.split(", "))},
       EXISTS (SELECT 1 FROM post_likes l WHERE l.post = p.id AND l."user" = $1) AS liked_by_me,
       EXISTS (SELECT 1 FROM bookmarks k WHERE k.post = p.id AND k."user" = $1) AS bookmarked_by_me,
       EXISTS (SELECT 1 FROM posts r WHERE r.author = $1 AND r.repost_of = p.id AND r.deleted_at IS NULL)
         AS reposted_by_me
FROM posts p JOIN users a ON a.id = p.author
"""  # noqa: S608 — constant column list

# The part that is the same for everyone, at the versions it was read at (what the content cache keeps).
CONTENT_SELECT = """
SELECT p.id, p.xmin::text AS ver,
       (SELECT v.xmin::text FROM videos v WHERE v.post = p.id AND v.deleted_at IS NULL) AS video_ver,
       p.text, p.hashtags, p.mentions, p.created_at, p.edited_at, p.like_count, p.comment_count, p.repost_count,
       p.price_amount, p.price_currency,
       (SELECT json_agg(json_build_object('id', m.id::text, 'url', m.url, 'width', m.width, 'height', m.height)
                        ORDER BY m.id)
          FROM post_media m WHERE m.post = p.id) AS media,
       (SELECT json_build_object('id', v.id::text, 'title', v.title, 'duration', v.duration, 'width', v.width,
                                 'height', v.height)
          FROM videos v WHERE v.post = p.id AND v.deleted_at IS NULL) AS video
FROM posts p WHERE p.id = ANY($1)
"""


async def visible_post_rows(viewer: int, ids: list[int], *, feed: bool = False) -> list[Any]:
    """The viewer's rows (``VIEW_SELECT``) of the posts among ``ids`` that ``viewer`` may see (feeds: not muted)."""
    where = VISIBLE + (" AND " + NOT_MUTED if feed else "")
    return await sql.fetch(VIEW_SELECT + f" WHERE p.id = ANY($2) AND {where}", viewer, ids)


async def post_contents(ids: list[int]) -> list[Any]:
    """The content rows (``CONTENT_SELECT``) of ``ids``, whoever reads them."""
    return await sql.fetch(CONTENT_SELECT, ids)


async def usernames(ids: list[int]) -> dict[int, str]:
    """Username by id, for rendering mentions."""
    found = await sql.fetch("SELECT id, username FROM users WHERE id = ANY($1)", ids)
    return {r["id"]: r["username"] for r in found}


async def who_can_see(post_id: int, user_ids: list[int] | tuple[int, ...]) -> list[int]:
    """The users among ``user_ids`` who may see post ``post_id`` (the same rule as every read)."""
    if not user_ids:
        return []
    rule = VISIBLE.replace("$1", "v.id")
    rows = await sql.fetch(
        "SELECT v.id FROM unnest($1::bigint[]) AS v(id) JOIN posts p ON p.id = $2 JOIN users a ON a.id = p.author "  # noqa: S608 — the visibility rule with the viewer column swapped in; values are $n
        f"WHERE {rule}",
        list(user_ids),
        post_id,
    )
    seen = {r["id"] for r in rows}
    return [u for u in user_ids if u in seen]


async def is_blocked_either_way(a: int, b: int) -> bool:
    return bool(await sql.fetchval("SELECT " + blocked_either_way("$1", "$2"), a, b))


async def block_relations(user_id: int) -> list[int]:
    """Everyone in a block relation with ``user_id``, either way (the gateway hides their events from them)."""
    rows = await sql.fetch(
        "SELECT blocked AS other FROM blocks WHERE blocker = $1 UNION SELECT blocker FROM blocks WHERE blocked = $1",
        user_id,
    )
    return [r["other"] for r in rows]


# -- feeds: candidate post ids, newest first, below a keyset bound ------------------------------------
# The feed service hydrates them through ``visible_post_rows``; these only pick ids, index-friendly.

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
