"""The visibility and block rules, the one place they are written, and the checks that are only those rules.

Raw because each rule is one SQL predicate spliced whole into other statements (feeds' LATERAL queries, the
fan-out, comments, graph lists, and payments', live's, video's and notifications' reads), which the query
builder cannot express. Values are always bind parameters ($n).
"""

from __future__ import annotations

from server import sql
from server.payments.queries.access import subscriber_access


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


async def can_view_post(viewer: int, post_id: int) -> bool:
    """Whether ``viewer`` may see ``post_id`` (visibility and blocks)."""
    return bool(
        await sql.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM posts p JOIN users a ON a.id = p.author WHERE p.id = $2 AND {VISIBLE})",  # noqa: S608 — the constant visibility rule; values are $n
            viewer,
            post_id,
        )
    )


async def is_blocked_either_way(a: int, b: int) -> bool:
    return bool(await sql.fetchval("SELECT " + blocked_either_way("$1", "$2"), a, b))


async def block_relations(user_id: int) -> list[int]:
    """Everyone in a block relation with ``user_id``, either way (the gateway hides their events from them)."""
    rows = await sql.fetch(
        "SELECT blocked AS other FROM blocks WHERE blocker = $1 UNION SELECT blocker FROM blocks WHERE blocked = $1",
        user_id,
    )
    return [r["other"] for r in rows]
