"""Social's SQL, as named functions: the visibility rule, feeds, the graph, posts and comments.

Raw because the visibility rule is one SQL predicate spliced into many statements (feeds' LATERAL queries,
the fan-out's ``who_can_see``, payments' and live's reads): it must stay a single string the planner sees
whole, which the query builder cannot express. The rest goes through ``server.sql`` too, for three reasons
the builder does not cover: reads outside a transaction may be served by a read replica
(``server.replicas``), writes use ``ON CONFLICT DO NOTHING`` and its row count, and counters are set-based
``x = x + $n`` updates. Services call these functions and hold no SQL text. Values are always bind
parameters ($n).
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


# -- graph: profiles, follows, requests, blocks, mutes --------------------------------------------------
# Through ``server.sql`` rather than the builder: reads outside a transaction may go to a read replica
# (``server.replicas``), writes need ``ON CONFLICT DO NOTHING`` with its row count, and the counters are
# set-based ``x = x + n`` updates taken in a fixed lock order.

PROFILE_COLS = f"{USER_COLS}, bio, links, created_at"
_U_COLS = ", ".join("u." + c for c in USER_COLS.split(", "))
# The two follow counters, by the side of the follow a user is on.
_FOLLOW_COUNTERS = {
    "following_count": "UPDATE users SET following_count = following_count + $2 WHERE id = $1",
    "followers_count": "UPDATE users SET followers_count = followers_count + $2 WHERE id = $1",
}


async def live_user_by_username(username: str) -> Any:
    """The profile row of the unsuspended user called ``username`` (already lower-cased), or ``None``."""
    return await sql.fetchrow(
        f"SELECT {PROFILE_COLS} FROM users WHERE username = $1 AND suspended_at IS NULL",  # noqa: S608 — constant column list; values are $n
        username,
    )


async def profile_row(user_id: int) -> Any:
    """The profile row of ``user_id`` (suspended or not), or ``None``."""
    return await sql.fetchrow(f"SELECT {PROFILE_COLS} FROM users WHERE id = $1", user_id)  # noqa: S608 — constant column list; values are $n


async def user_row(user_id: int) -> Any:
    """The ``USER_COLS`` row of ``user_id`` (a user summary), or ``None``."""
    return await sql.fetchrow(f"SELECT {USER_COLS} FROM users WHERE id = $1", user_id)  # noqa: S608 — constant column list; values are $n


async def blocks(blocker: int, blocked: int) -> bool:
    """Whether ``blocker`` blocks ``blocked`` (this direction only)."""
    return bool(
        await sql.fetchval("SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2)", blocker, blocked)
    )


async def follows(follower: int, followee: int) -> bool:
    return bool(
        await sql.fetchval(
            "SELECT EXISTS (SELECT 1 FROM follows WHERE follower = $1 AND followee = $2)", follower, followee
        )
    )


async def relationship(viewer: int, other: int) -> Any:
    """The five relationship flags of ``viewer`` towards ``other``, in one round trip."""
    return await sql.fetchrow(
        """SELECT
             EXISTS (SELECT 1 FROM follows WHERE follower = $1 AND followee = $2) AS following,
             EXISTS (SELECT 1 FROM follows WHERE follower = $2 AND followee = $1) AS followed_by,
             EXISTS (SELECT 1 FROM follow_requests WHERE requester = $1 AND target = $2) AS requested,
             EXISTS (SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2) AS blocking,
             EXISTS (SELECT 1 FROM mutes WHERE muter = $1 AND muted = $2) AS muting""",
        viewer,
        other,
    )


# The profile columns a user may change, with the cast each value needs.
_PROFILE_SETS = {"display_name": "", "bio": "", "is_private": "", "links": "::jsonb"}


async def update_profile(user_id: int, values: dict[str, Any]) -> None:
    """Set the given profile columns (names from ``_PROFILE_SETS``; ``links`` as JSON text) and ``updated_at``."""
    if unknown := set(values) - set(_PROFILE_SETS):
        raise ValueError(f"not profile columns: {sorted(unknown)}")
    sets = ", ".join(f"{name} = ${i}{_PROFILE_SETS[name]}" for i, name in enumerate(values, start=2))
    await sql.execute(f"UPDATE users SET {sets}, updated_at = now() WHERE id = $1", user_id, *values.values())  # noqa: S608 — SET names checked against _PROFILE_SETS; values are $n


async def bump_follow_counter(user_id: int, counter: str, delta: int) -> None:
    """Add ``delta`` to ``counter`` (``following_count`` or ``followers_count``) of ``user_id``."""
    await sql.execute(_FOLLOW_COUNTERS[counter], user_id, delta)


async def lock_block_pair(a: int, b: int) -> None:
    """Transaction-scoped advisory lock on the (unordered) pair, serializing their block changes."""
    lo, hi = sorted((a, b))
    await sql.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", f"blocks:{lo}:{hi}")


async def insert_follow(row_id: int, follower: int, followee: int) -> bool:
    """Record the follow; ``False`` when it existed already."""
    status = await sql.execute(
        "INSERT INTO follows (id, follower, followee, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING",
        row_id,
        follower,
        followee,
    )
    return bool(sql.changed(status))


async def delete_follow(follower: int, followee: int) -> bool:
    """Remove the follow; ``False`` when there was none."""
    status = await sql.execute("DELETE FROM follows WHERE follower = $1 AND followee = $2", follower, followee)
    return bool(sql.changed(status))


async def insert_follow_request(row_id: int, requester: int, target: int) -> bool:
    """Record the pending request; ``False`` when it existed already."""
    status = await sql.execute(
        "INSERT INTO follow_requests (id, requester, target, created_at) VALUES ($1, $2, $3, now()) "
        "ON CONFLICT DO NOTHING",
        row_id,
        requester,
        target,
    )
    return bool(sql.changed(status))


async def delete_follow_request(requester: int, target: int) -> bool:
    """Remove the pending request; ``False`` when there was none."""
    status = await sql.execute("DELETE FROM follow_requests WHERE requester = $1 AND target = $2", requester, target)
    return bool(sql.changed(status))


async def delete_follow_requests_between(a: int, b: int) -> None:
    """Remove pending requests between ``a`` and ``b``, both ways."""
    await sql.execute(
        "DELETE FROM follow_requests WHERE (requester = $1 AND target = $2) OR (requester = $2 AND target = $1)",
        a,
        b,
    )


async def take_follow_requests(target: int) -> list[int]:
    """Delete every pending request to ``target``; the requesters, for accepting them."""
    rows = await sql.fetch("DELETE FROM follow_requests WHERE target = $1 RETURNING requester", target)
    return [r["requester"] for r in rows]


async def follow_requests_page(target: int, below: int, n: int) -> list[Any]:
    """Pending requests to ``target`` below request id ``below``, newest first.

    Each row is ``rid`` (the request's id, the page key) and the requester's ``USER_COLS``.
    """
    return await sql.fetch(
        f"SELECT r.id AS rid, {_U_COLS} FROM follow_requests r "  # noqa: S608 — constant column list; values are $n
        "JOIN users u ON u.id = r.requester WHERE r.target = $1 AND r.id < $2 ORDER BY r.id DESC LIMIT $3",
        target,
        below,
        n,
    )


# Followers of a user are on the ``followee`` side of ``follows``; followees on the ``follower`` side.
_CONNECTIONS = {
    which: f"SELECT f.id AS fid, {_U_COLS} FROM follows f "  # noqa: S608 — columns chosen from constants; values are $n
    f"JOIN users u ON u.id = f.{other} WHERE f.{mine} = $1 AND f.id < $2 "
    f"AND NOT {blocked_either_way('$3', 'u.id')} ORDER BY f.id DESC LIMIT $4"
    for which, mine, other in (("followers", "followee", "follower"), ("following", "follower", "followee"))
}


async def connections_page(user_id: int, which: str, viewer: int, below: int, n: int) -> list[Any]:
    """Followers (``which='followers'``) or followees of ``user_id`` below follow id ``below``, newest first,
    without anyone in a block relation with ``viewer``: ``fid`` plus the user's ``USER_COLS``."""
    return await sql.fetch(_CONNECTIONS[which], user_id, below, viewer, n)


async def search_users(q: str, like: str, viewer: int, n: int, offset: int) -> list[Any]:
    """Unsuspended users resembling ``q`` (pg_trgm) or starting with ``like``, best match first, none in a block
    relation with ``viewer``."""
    return await sql.fetch(
        f"SELECT {USER_COLS}, greatest(similarity(username, $1), similarity(lower(display_name), $1)) AS rank "  # noqa: S608 — constant column list and block predicate; values are $n
        "FROM users u WHERE suspended_at IS NULL AND (username % $1 OR lower(display_name) % $1 "
        "OR username LIKE $2 OR lower(display_name) LIKE $2) "
        f"AND NOT {blocked_either_way('$3', 'u.id')} "
        "ORDER BY (username = $1) DESC, rank DESC, followers_count DESC, id LIMIT $4 OFFSET $5",
        q,
        like,
        viewer,
        n,
        offset,
    )


async def insert_block(row_id: int, blocker: int, blocked: int) -> None:
    await sql.execute(
        "INSERT INTO blocks (id, blocker, blocked, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING",
        row_id,
        blocker,
        blocked,
    )


async def delete_block(blocker: int, blocked: int) -> bool:
    """Remove the block; ``False`` when there was none."""
    status = await sql.execute("DELETE FROM blocks WHERE blocker = $1 AND blocked = $2", blocker, blocked)
    return bool(sql.changed(status))


async def insert_mute(row_id: int, muter: int, muted: int) -> None:
    await sql.execute(
        "INSERT INTO mutes (id, muter, muted, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING",
        row_id,
        muter,
        muted,
    )


async def delete_mute(muter: int, muted: int) -> None:
    await sql.execute("DELETE FROM mutes WHERE muter = $1 AND muted = $2", muter, muted)


# -- posts: the rows a post's writes need, counters, likes, reposts, bookmarks, edits ----------------------
# Raw for the same reasons as the graph's: replica-routed reads, ON CONFLICT with row counts, set-based
# counters (``greatest(x - 1, 0)``), and the visibility rule spliced in whole.

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


async def can_view_post(viewer: int, post_id: int) -> bool:
    """Whether ``viewer`` may see ``post_id`` (visibility and blocks)."""
    return bool(
        await sql.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM posts p JOIN users a ON a.id = p.author WHERE p.id = $2 AND {VISIBLE})",  # noqa: S608 — the constant visibility rule; values are $n
            viewer,
            post_id,
        )
    )


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


# -- comments ----------------------------------------------------------------------------------------------
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


# -- fan-out audiences, media and avatars ------------------------------------------------------------------
# The fan-out's reads run once per post for every follower (set-based, replica-routable); media rows are
# keyed by URL, which the builder reads fine but is kept beside the other post_media statements.

_FOLLOWER_NOT_MUTED = "AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter = f.follower AND m.muted = f.followee)"


async def paying_subscribers(creator: int) -> list[int]:
    """Whose subscription to ``creator`` gives access right now (payments' ``access_until`` rule)."""
    rows = await sql.fetch(
        "SELECT subscriber FROM fan_subscriptions WHERE creator = $1 AND access_until > now()", creator
    )
    return [r["subscriber"] for r in rows]


async def unmuted_followers(author: int, among: list[int] | None = None) -> list[int]:
    """``author``'s followers who have not muted them (only those among ``among``, if given)."""
    if among is None:
        rows = await sql.fetch(f"SELECT follower FROM follows f WHERE followee = $1 {_FOLLOWER_NOT_MUTED}", author)  # noqa: S608 — a constant predicate; values are $n
    else:
        rows = await sql.fetch(
            f"SELECT follower FROM follows f WHERE followee = $1 AND follower = ANY($2) {_FOLLOWER_NOT_MUTED}",  # noqa: S608 — a constant predicate; values are $n
            author,
            among,
        )
    return [r["follower"] for r in rows]


async def replace_avatar(user_id: int, url: str) -> str | None:
    """Point the user's avatar at ``url``; the URL it had (its file is the caller's to remove)."""
    old = await sql.fetchval("SELECT avatar_url FROM users WHERE id = $1", user_id)
    await sql.execute("UPDATE users SET avatar_url = $2, updated_at = now() WHERE id = $1", user_id, url)
    return old if isinstance(old, str) else None


async def insert_upload(row_id: int, owner: int, url: str, width: int, height: int) -> Any:
    """Keep an uploaded image as ``owner``'s unattached media; its ``id, url, width, height``."""
    return await sql.fetchrow(
        "INSERT INTO post_media (id, owner, post, url, width, height, created_at) "
        "VALUES ($1, $2, NULL, $3, $4, $5, now()) RETURNING id, url, width, height",
        row_id,
        owner,
        url,
        width,
        height,
    )


async def media_file_access(url: str) -> Any:
    """What serving the media file at ``url`` depends on: its post's visibility and deletion, its author's
    privacy and suspension (all ``NULL`` while unattached); ``None`` for an unknown URL."""
    return await sql.fetchrow(
        "SELECT p.visibility, p.deleted_at, a.is_private, a.suspended_at FROM post_media m "
        "LEFT JOIN posts p ON p.id = m.post LEFT JOIN users a ON a.id = p.author WHERE m.url = $1",
        url,
    )


# -- staff undo (the admin panel's forms) ------------------------------------------------------------------
# Conditional updates whose RETURNING says whether there was anything to undo, and counters set-based.


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


# --- the runtime's background work (social/runtime.py) ---


async def delete_orphan_media(older_than_seconds: float) -> list[Any]:
    """Delete uploads never attached to a post and older than ``older_than_seconds``; their ``url``s."""
    return await sql.fetch(
        "DELETE FROM post_media WHERE post IS NULL AND created_at < now() - make_interval(secs => $1) RETURNING url",
        older_than_seconds,
    )


async def touch_last_active(user_id: int) -> None:
    """Set the user's durable, coarse last-seen to now."""
    await sql.execute("UPDATE users SET last_active_at = now() WHERE id = $1", user_id)


async def post_stats(ids: list[int]) -> list[Any]:
    """``id``, ``like_count`` and ``comment_count`` of the posts ``ids`` that are not deleted."""
    return await sql.fetch(
        "SELECT id, like_count, comment_count FROM posts WHERE id = ANY($1) AND deleted_at IS NULL", ids
    )
