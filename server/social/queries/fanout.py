"""Who a new post's events reach: paying subscribers and unmuted followers.

Raw because these run once per post over every follower: set-based and replica-routable. Values are bind
parameters.
"""

from __future__ import annotations

from server import sql

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
